#!/usr/bin/env python3
"""Mint synthetic example tokens for signature files.

Example secrets in signatures/ must be synthetic: random, never a real credential. Formats with a
checksum need a correct one to pass `keysift rules check`; this script computes it.

    python3 signatures/mint.py base62-crc32 ghp_ 30       # GitHub / npm style
    python3 signatures/mint.py hex-crc32-suffix glsa_ 32  # Grafana service-account style
    python3 signatures/mint.py random 40 [alphabet]       # plain random string
    python3 signatures/mint.py jwt                        # a well-formed, unsigned-looking JWT

Alphabets: base62 (default), hex, HEX, base64, base64url, lower, upper, digits, lowernum, uppernum.
"""
import base64
import binascii
import json
import secrets
import string
import sys

ALPHABETS = {
    "base62": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "base64": string.ascii_letters + string.digits + "+/",
    "base64url": string.ascii_letters + string.digits + "-_",
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "lowernum": string.ascii_lowercase + string.digits,
    "uppernum": string.ascii_uppercase + string.digits,
}
BASE62 = ALPHABETS["base62"]


def random_string(n, alphabet="base62"):
    chars = ALPHABETS.get(alphabet, alphabet)
    return "".join(secrets.choice(chars) for _ in range(n))


def base62(value, width):
    digits = []
    for _ in range(width):
        digits.append(BASE62[value % 62])
        value //= 62
    return "".join(reversed(digits))


def base62_crc32(prefix, n):
    body = random_string(n)
    return prefix + body + base62(binascii.crc32(body.encode()), 6)


def hex_crc32_suffix(prefix, n):
    covered = prefix + random_string(n)
    little_endian = binascii.crc32(covered.encode()).to_bytes(4, "little").hex()
    return covered + "_" + little_endian


def jwt():
    b64 = lambda obj: base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()
    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = b64({"sub": random_string(12, "lowernum"), "iat": 1700000000 + secrets.randbelow(10**7)})
    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    kind = argv[1]
    if kind == "base62-crc32":
        print(base62_crc32(argv[2], int(argv[3])))
    elif kind == "hex-crc32-suffix":
        print(hex_crc32_suffix(argv[2], int(argv[3])))
    elif kind == "random":
        print(random_string(int(argv[2]), argv[3] if len(argv) > 3 else "base62"))
    elif kind == "jwt":
        print(jwt())
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
