"""The original-style REST endpoint the API is compared with: Flask, a new client per request.

``GET /customers/<id>`` opens a ``MongoClient``, reads the customer from the plain
``customer_metrics`` collection, closes the client and returns the document as JSON (404
when absent), served by Flask's threaded server, as the project's first REST API did.

    MONGO_URI=... MONGO_DB=... python bench/rest_baseline.py --port 8100
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from flask import Flask, abort, jsonify
from flask.typing import ResponseReturnValue
from pymongo import MongoClient

app = Flask(__name__)
URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017")
DB = os.environ.get("MONGO_DB", "medallion")


@app.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> ResponseReturnValue:
    client: MongoClient[dict[str, Any]] = MongoClient(URI)
    try:
        doc = client[DB]["customer_metrics"].find_one({"_id": customer_id}, {"_id": 0})
    finally:
        client.close()
    if doc is None:
        abort(404)
    return jsonify(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app.run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
