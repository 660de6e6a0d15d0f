import json
import threading
import unittest
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from ${{ values.moduleName }}.server import create_server


class ServiceOverHttpTest(unittest.TestCase):
    """Starts the service on a free port and calls it over HTTP."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = create_server(0, host="127.0.0.1")
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join()

    def call(self, path: str, method: str = "GET") -> tuple[int, dict[str, str]]:
        try:
            with urlopen(Request(self.base + path, method=method), timeout=5) as response:
                self.assertEqual(response.headers["Content-Type"], "application/json")
                return response.status, json.loads(response.read())
        except HTTPError as error:
            return error.code, json.loads(error.read())

    def test_healthz_answers_ok(self) -> None:
        self.assertEqual(self.call("/healthz"), (200, {"status": "ok"}))

    def test_hello_greets_by_name(self) -> None:
        self.assertEqual(self.call("/hello?name=Ada%20Lovelace"), (200, {"message": "Hello, Ada Lovelace"}))

    def test_hello_without_a_name_greets_the_world(self) -> None:
        self.assertEqual(self.call("/hello"), (200, {"message": "Hello, world"}))

    def test_unknown_path_is_not_found(self) -> None:
        status, _ = self.call("/nope")
        self.assertEqual(status, 404)

    def test_post_is_not_allowed(self) -> None:
        status, _ = self.call("/healthz", method="POST")
        self.assertEqual(status, 405)


if __name__ == "__main__":
    unittest.main()
