"""A real SMTP server on loopback for the tests (aiosmtpd, Debian's python3-aiosmtpd), started by ./setup.sh.

Each accepted message is stored whole (RFC 5322 bytes as received after DATA) as one file per envelope recipient
under the mail directory: <recipient>--<nanoseconds>-<n>.eml, written to a temporary name first and renamed, so a
test never reads half a message. The tests parse the files with MimeKit. Nothing here trusts the content: recipients
are reduced to [A-Za-z0-9@._+-] before they become part of a file name.
"""
import argparse
import itertools
import os
import re
import signal
import time

from aiosmtpd.controller import Controller

_counter = itertools.count()
_unsafe = re.compile(r"[^A-Za-z0-9@._+-]")


class Store:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        stamp = time.time_ns()
        for rcpt in envelope.rcpt_tos:
            name = "%s--%d-%d.eml" % (_unsafe.sub("_", rcpt.lower())[:200], stamp, next(_counter))
            tmp = os.path.join(self.directory, "." + name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    # AUTH is accepted (any credentials) without TLS on loopback, so the daemon's user/password path is exercised.
    controller = Controller(Store(a.dir), hostname=a.host, port=a.port, auth_require_tls=False,
                            authenticator=lambda server, session, envelope, mechanism, auth_data: _ok(),
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), os._exit(0)))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


def _ok():
    from aiosmtpd.smtp import AuthResult
    return AuthResult(success=True)


if __name__ == "__main__":
    main()
