"""A real SMTP server for the tests (aiosmtpd): STARTTLS, AUTH PLAIN/LOGIN only over TLS, and every accepted
message written to a mailbox directory as <n>.eml (with X-Envelope-From/To headers), so that tests read what a
user would have received.

    python smtp-test-server.py PORT MAILBOX_DIR CERT KEY USER PASSWORD

Runs on 127.0.0.1 until SIGTERM. Started and stopped (by PID) by scripts/test.
"""
import asyncio
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    port, mailbox, cert, key, user, password = sys.argv[1:7]
    os.makedirs(mailbox, exist_ok=True)
    counter = itertools.count(1)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            name = os.path.join(mailbox, "%06d.eml" % next(counter))
            header = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\nX-Was-TLS: %s\r\nX-Authenticated: %s\r\n" % (
                envelope.mail_from, ",".join(envelope.rcpt_tos), session.ssl is not None,
                session.authenticated)
            with open(name + ".tmp", "wb") as f:
                f.write(header.encode() + envelope.original_content)
            os.rename(name + ".tmp", name)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
        # handled=False: aiosmtpd then answers the refusal itself (535) instead of leaving it to us.
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=int(port), tls_context=context, require_starttls=False,
        authenticator=authenticator, auth_required=False, auth_require_tls=True, decode_data=False)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.new_event_loop()
    signal.signal(signal.SIGTERM, lambda *_: stop.call_soon_threadsafe(stop.stop))
    signal.signal(signal.SIGINT, lambda *_: stop.call_soon_threadsafe(stop.stop))
    stop.run_forever()
    controller.stop()


if __name__ == "__main__":
    main()
