"""The Python peer of `deepfake serve` for `cargo xtask bench serve`: the smallest server a
PyTorch user would write for the same job.

    python3 scripts/serve_torch.py [--port 0] [--threads 2]

`http.server.ThreadingHTTPServer` (one thread per connection, HTTP/1.1 keep-alive) + the seed's
pipeline: PIL decode -> Resize(224, bilinear) -> ToTensor -> Normalize -> DeepfakeDetector (the
reference module, random weights, eval mode, no_grad) -> softmax, one image per forward pass
under a lock. `POST /v1/predict` takes one image as the raw body and answers
{"results": [{"label", "p_fake"}]}; a body that is not an image gets 422. Prints one JSON line
{"port": P} once the model is warmed up.
"""

import argparse
import io
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import DeepfakeDetector  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = DeepfakeDetector().eval()
lock = threading.Lock()
pipeline = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def p_fake(batch):
    with lock, torch.no_grad():
        return torch.softmax(model(batch), dim=1)[0, 1].item()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/predict":
            self.answer(404, {"error": "not found"})
            return
        try:
            image = Image.open(io.BytesIO(body)).convert("RGB")
        except Exception as error:  # noqa: BLE001 (any decode failure is the client's)
            self.answer(422, {"error": str(error)})
            return
        p = p_fake(pipeline(image).unsqueeze(0))
        self.answer(200, {"results": [{"label": "fake" if p >= 0.5 else "real", "p_fake": p}]})

    def log_message(self, *_):
        pass


p_fake(torch.zeros(1, 3, 224, 224))  # warm-up
server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(json.dumps({"port": server.server_address[1]}), flush=True)
server.serve_forever()
