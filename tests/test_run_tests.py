"""`make test` finds the local services as CI names them, unless the environment names them."""

import importlib.util
import socket
import threading
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "run_tests", Path(__file__).resolve().parent.parent / "scripts" / "run_tests.py"
)
run_tests = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_tests)


def environment(environ, postgres, redis):
    return run_tests.services_environment(
        environ, postgres_answers=lambda: postgres, redis_answers=lambda: redis
    )


def test_the_local_redis_is_used_when_it_answers_and_redis_url_is_unset():
    env = environment({"PATH": "/bin"}, postgres=True, redis=True)
    assert env == {
        "PATH": "/bin",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/rongxie",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }


def test_nothing_is_added_for_services_that_do_not_answer():
    assert environment({"PATH": "/bin"}, postgres=False, redis=False) == {"PATH": "/bin"}


def test_urls_in_the_environment_win():
    given = {"DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r:6379/5"}
    assert environment(given, postgres=True, redis=True) == given


def serve_once(reply):
    """A one-connection server on a free port that answers ``reply`` to what it reads."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer():
        with server, server.accept()[0] as conn:
            conn.recv(64)
            conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_the_redis_probe_wants_a_pong():
    assert run_tests.local_redis_answers(port=serve_once(b"+PONG\r\n")) is True
    assert run_tests.local_redis_answers(port=serve_once(b"HTTP/1.1 400\r\n")) is False
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert run_tests.local_redis_answers(port=port) is False
