"""Runs the service: python -m ${{ values.moduleName }} (PORT from the environment, 8080 by default)."""

import logging
import os
import signal
import threading

from .server import create_server


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    port = int(os.environ.get("PORT", "8080"))
    server = create_server(port)

    # Stop serving on SIGTERM (shutdown() waits for serve_forever, so it runs on another thread).
    def stop(signum: int, _frame: object) -> None:
        logging.info("received signal %d, shutting down", signum)
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.info("listening on port %d", server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
