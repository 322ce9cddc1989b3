"""The floor: a bare Flask JSON endpoint with nothing of ours in it, served by the same gunicorn.conf.py.

It reads the JSON-RPC body and answers a small JSON object, which is the least any /mcp request
costs. Every HTTP-path figure is reported as a ratio to this app measured in the same run.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/mcp")
def echo():
    message = request.get_json()
    return jsonify(jsonrpc="2.0", id=message.get("id"), result={"tools": []})
