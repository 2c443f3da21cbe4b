"""A real SMTP server for shakedown's tests (aiosmtpd, Debian python3-aiosmtpd).

Usage: /usr/bin/python3 smtp_sink.py OUT_DIR [CERT KEY PASSWORD]
Listens on 127.0.0.1, on a free port that it prints on its first line of stdout once it
accepts connections. With CERT, KEY and PASSWORD: SMTPS (TLS from the first byte) and AUTH
required, any user with that password (the login is recorded, never the password). Every message received is parsed with Python's email package and
written, atomically, as OUT_DIR/<n>.json: envelope, Subject/From/To/Message-ID/Date, the text/plain body
and each attachment (filename, content type, text; an XML attachment also parsed as JUnit:
suites with their counts, test cases with their failure message).
"""
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import xml.etree.ElementTree as ET

from aiosmtpd.smtp import SMTP, AuthResult


def junit(text):
    """The JUnit document as suites and cases (raises on malformed XML)."""
    root = ET.fromstring(text)
    suites = []
    for suite in root.iter("testsuite"):
        cases = []
        for case in suite.iter("testcase"):
            failure = case.find("failure")
            cases.append(
                {
                    "name": case.get("name"),
                    "classname": case.get("classname"),
                    "failure": failure.get("message") if failure is not None else None,
                }
            )
        suites.append(
            {
                "name": suite.get("name"),
                "tests": int(suite.get("tests")),
                "failures": int(suite.get("failures")),
                "cases": cases,
            }
        )
    return {"suites": suites}


def parse_junit(text):
    try:
        return junit(text)
    except Exception as e:  # recorded for the test to show, not a 5xx to the client
        return {"error": repr(e)}


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        attachments = []
        for part in msg.iter_attachments():
            content = part.get_content()
            if isinstance(content, bytes):
                content = content.decode("utf-8", "replace")
            attachments.append(
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "content": content,
                    "junit": parse_junit(content) if part.get_content_type() == "application/xml" else None,
                }
            )
        record = {
            "auth_login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": msg["subject"],
            "message_id": msg["message-id"],
            "date": msg["date"],
            "from": msg["from"],
            "to": msg["to"],
            "content_type": msg.get_content_type(),
            "body": body.get_content() if body is not None else None,
            "attachments": attachments,
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        self.count += 1
        tmp = os.path.join(self.out, f".{self.count}.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, f"{self.count}.json"))
        return "250 Message accepted for delivery"


def password_check(password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    return check


async def main(out, tls=None):
    sink = Sink(out)
    loop = asyncio.get_running_loop()
    if tls is None:
        server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    else:
        cert, key, password = tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        factory = lambda: SMTP(
            sink,
            authenticator=password_check(password),
            auth_required=True,
            auth_require_tls=False,
        )
        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], tuple(sys.argv[2:5]) if len(sys.argv) >= 5 else None))
