"""A real SMTP server (aiosmtpd) on loopback for uptick's email tests.

usage: smtp_server.py MODE CERT KEY
  MODE: starttls (plain, STARTTLS required before AUTH and mail), starttls-login (the same, offering
        AUTH LOGIN only), tls (TLS from the first byte), plain (no TLS offered).
Accepts AUTH PLAIN and LOGIN for user "uptick", password "s3cret". Prints "PORT <n>" once listening,
then one JSON line per message received: envelope, whether TLS and AUTH were used, and the data.
Stops when stdin closes.
"""
import asyncio
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # aiosmtpd sets session.ssl only after STARTTLS; in "tls" mode the whole connection is TLS.
            "tls": session.ssl is not None or MODE == "tls",
            "authenticated": session.authenticated,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"uptick" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


MODE = sys.argv[1]


async def main():
    mode, cert, key = MODE, sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def factory():
        return SMTP(
            Handler(),
            hostname="localhost",
            tls_context=context if mode.startswith("starttls") else None,
            require_starttls=mode.startswith("starttls"),
            auth_exclude_mechanism=["PLAIN"] if mode == "starttls-login" else None,
            authenticator=authenticator,
            # In "tls" mode aiosmtpd cannot tell the socket is encrypted, so it must not insist.
            auth_require_tls=mode.startswith("starttls"),
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context if mode == "tls" else None)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
