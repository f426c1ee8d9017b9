//! The activation buffers of a forward pass, kept in a pool between passes.

use std::sync::Mutex;

/// The buffers one image's forward pass reuses from layer to layer (grown once, never
/// shrunk), so no layer allocates or faults in fresh pages.
#[derive(Debug, Default)]
pub(super) struct Workspace {
    /// The current activation `[C, H, W]` (`[C, B, H, W]` in the batched blocks).
    pub(super) x: Vec<f32>,
    /// Output of the reducing 1x1.
    pub(super) reduced: Vec<f32>,
    /// Output of the grouped 3x3.
    pub(super) grouped: Vec<f32>,
    /// The output of a block with a projection (the projection, then `+=` the expanding 1x1).
    pub(super) out: Vec<f32>,
    /// Strided gathers (and the stem's im2col strips on CPUs without the packed product).
    pub(super) scratch: Vec<f32>,
}

/// Workspaces kept between forward passes, so a pass does not fault in fresh pages for its
/// activations (~15 MB per image at 224x224).
#[derive(Debug, Default)]
pub(super) struct WorkspacePool(Mutex<Vec<Workspace>>);

impl WorkspacePool {
    /// A workspace from the pool (or a new one), returned to it when dropped.
    pub(super) fn take(&self) -> PooledWorkspace<'_> {
        let workspace = self
            .0
            .lock()
            .map(|mut pool| pool.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        PooledWorkspace {
            workspace,
            pool: self,
        }
    }
}

/// A workspace on loan from a [`WorkspacePool`].
pub(super) struct PooledWorkspace<'a> {
    workspace: Workspace,
    pool: &'a WorkspacePool,
}

impl std::ops::Deref for PooledWorkspace<'_> {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

impl std::ops::DerefMut for PooledWorkspace<'_> {
    fn deref_mut(&mut self) -> &mut Workspace {
        &mut self.workspace
    }
}

impl Drop for PooledWorkspace<'_> {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.0.lock() {
            pool.push(std::mem::take(&mut self.workspace));
        }
    }
}

#[cfg(test)]
impl WorkspacePool {
    /// Workspaces waiting in the pool.
    pub(super) fn len(&self) -> usize {
        self.0.lock().expect("the pool's lock").len()
    }
}
