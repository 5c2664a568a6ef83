"""Python logging records reach the driver as one marked line each, through the root logger's handler."""
import io
import logging
import os
import unittest
from unittest import mock

from snakebridge_worker import logs
from worker_client import WorkerProcess

NONCE = "0123456789abcdef0123456789abcdef"


class RootLoggerSaved(unittest.TestCase):
    """Restores the root logger's handlers and level: these tests change them in this process."""

    def setUp(self):
        self.root = logging.getLogger()
        self.saved = (self.root.handlers[:], self.root.level)
        self.root.handlers.clear()

    def tearDown(self):
        self.root.handlers[:], level = self.saved
        self.root.setLevel(level)


class RecordLineTest(RootLoggerSaved):
    def setUp(self):
        super().setUp()
        self.stream = io.StringIO()
        self.root.addHandler(logs.RecordLineHandler(NONCE, self.stream))

    def test_a_record_is_one_line_with_the_nonce_its_level_number_and_its_logger(self):
        logging.getLogger("app.db").warning("disk %s", "full")
        self.assertEqual(self.stream.getvalue(), f"snakebridge-log {NONCE} 30 app.db disk full\n")

    def test_module_level_functions_log_through_the_handler_at_the_root(self):
        logging.error("boom")
        self.assertEqual(self.stream.getvalue(), f"snakebridge-log {NONCE} 40 root boom\n")

    def test_a_record_with_a_traceback_stays_one_line(self):
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            logging.getLogger("app").exception("failed")
        lines = self.stream.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith(f"snakebridge-log {NONCE} 40 app failed\\nTraceback (most recent call last):"))
        self.assertTrue(lines[0].endswith("ValueError: bad\\nvalue"))

    def test_whitespace_in_a_logger_name_cannot_split_its_fields(self):
        logging.getLogger("my app\nx").error("boom")
        self.assertEqual(self.stream.getvalue(), f"snakebridge-log {NONCE} 40 my_app_x boom\n")

    def test_the_root_stays_at_warning_and_the_user_sets_levels_as_usual(self):
        logging.getLogger("app").info("quiet")
        self.assertEqual(self.stream.getvalue(), "")
        self.root.setLevel(logging.INFO)
        logging.getLogger("app").info("heard")
        self.assertEqual(self.stream.getvalue(), f"snakebridge-log {NONCE} 20 app heard\n")

    def test_basic_config_with_force_replaces_the_handler(self):
        own = io.StringIO()
        logging.basicConfig(force=True, stream=own, format="%(levelname)s %(message)s")
        logging.warning("mine")
        self.assertEqual(own.getvalue(), "WARNING mine\n")
        self.assertEqual(self.stream.getvalue(), "")


class InstallTest(RootLoggerSaved):
    def test_the_nonce_leaves_the_environment_and_the_root_logger_gets_the_handler(self):
        with mock.patch.dict(os.environ, {logs.NONCE_VARIABLE: NONCE}):
            logs.install_from_environment()
            self.assertNotIn(logs.NONCE_VARIABLE, os.environ)
        self.assertEqual([type(h) for h in self.root.handlers], [logs.RecordLineHandler])
        self.assertEqual(self.root.handlers[0].prefix, f"snakebridge-log {NONCE} ")

    def test_without_a_nonce_logging_stays_unconfigured(self):
        with mock.patch.dict(os.environ):
            os.environ.pop(logs.NONCE_VARIABLE, None)
            logs.install_from_environment()
        self.assertEqual(self.root.handlers, [])

    def test_logging_configured_before_the_worker_started_is_left_alone(self):
        theirs = logging.NullHandler()
        self.root.addHandler(theirs)
        with mock.patch.dict(os.environ, {logs.NONCE_VARIABLE: NONCE}):
            logs.install_from_environment()
        self.assertEqual(self.root.handlers, [theirs])


class WorkerLoggingTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(environment={logs.NONCE_VARIABLE: NONCE})

    def tearDown(self):
        self.worker.close()

    def call(self, function, *args):
        return self.worker.request("call", session_id="s", function=function, args=list(args))

    def test_a_worker_started_with_a_nonce_sends_user_log_records_marked_and_hides_the_nonce(self):
        self.assertTrue(self.call("logging.warning", "disk %s", "full")["ok"])
        self.assertIsNone(self.call("os.environ.get", logs.NONCE_VARIABLE)["result"])
        self.assertEqual(self.worker.close(), 0)
        self.assertIn(f"snakebridge-log {NONCE} 30 root disk full\n", self.worker.stderr)


if __name__ == "__main__":
    unittest.main()
