#!/usr/bin/python3
"""A real SMTP server for the email channel's tests (aiosmtpd).

Usage: smtp_server.py OUTPUT_DIR [--user NAME --password SECRET] [--reject-rcpt ADDRESS:CODE]

Listens on 127.0.0.1 on a free port and prints the port on its first line.
Each accepted message is written to OUTPUT_DIR/<n>.json as
{"mail_from", "rcpt_tos", "data", "auth_user"}. With --user, AUTH PLAIN/LOGIN
is offered (without TLS, since the test runs on loopback) and required.
--reject-rcpt answers RCPT TO for ADDRESS with CODE (e.g. 550 or 451).
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Store:
    def __init__(self, directory, rejections):
        self.directory = directory
        self.rejections = rejections
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejections:
            code = self.rejections[address]
            return f"{code} {'mailbox unavailable' if code >= 500 else 'try again later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "auth_user": getattr(session, "trellis_user", None),
        }
        path = os.path.join(self.directory, f"{self.count}.json")
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject-rcpt", action="append", default=[])
    args = parser.parse_args()
    rejections = {}
    for item in args.reject_rcpt:
        address, code = item.rsplit(":", 1)
        rejections[address] = int(code)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user \
            and auth_data.password.decode() == args.password
        if ok:
            session.trellis_user = auth_data.login.decode()
        return AuthResult(success=ok, handled=False)

    options = {}
    if args.user:
        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    port = free_port()
    controller = Controller(Store(args.directory, rejections), hostname="127.0.0.1", port=port, **options)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
