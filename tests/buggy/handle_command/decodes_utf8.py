# Decodes keys and values as UTF-8: binary values crash it.
EXPECT = "never decode"
import re

INT = re.compile(rb"0|-?[1-9][0-9]*")
MAX = 2**63 - 1


def err(text):
    return b"-" + text.encode() + b"\r\n"


def bulk(value):
    return b"$%d\r\n%s\r\n" % (len(value), value)


def integer(n):
    return b":%d\r\n" % n


def ping(store, args):
    return b"+PONG\r\n" if len(args) == 1 else bulk(args[1])


def echo(store, args):
    return bulk(args[1])


def set_(store, args):
    if len(args) > 3:
        return err("ERR syntax error")
    store[args[1]] = args[2]
    return b"+OK\r\n"


def get(store, args):
    value = store.get(args[1])
    return b"$-1\r\n" if value is None else bulk(value)


def delete(store, args):
    n = 0
    for key in args[1:]:
        if key in store:
            del store[key]
            n += 1
    return integer(n)


def exists(store, args):
    return integer(sum(1 for key in args[1:] if key in store))


def incr(store, args):
    value = store.get(args[1], b"0")
    if not INT.fullmatch(value) or not -(2**63) <= int(value) <= MAX:
        return err("ERR value is not an integer or out of range")
    n = int(value)
    if n == MAX:
        return err("ERR increment or decrement would overflow")
    store[args[1]] = b"%d" % (n + 1)
    return integer(n + 1)


# name: (function, arity) — arity as Redis counts it: exact if positive, at least -n if negative
COMMANDS = {
    b"ping": (ping, -1),
    b"echo": (echo, 2),
    b"set": (set_, -3),
    b"get": (get, 2),
    b"del": (delete, -2),
    b"exists": (exists, -2),
    b"incr": (incr, 2),
}


def unknown(args):
    listed = b""
    for arg in args[1:]:
        if len(listed) >= 128:
            break
        listed += b"'" + arg[: 128 - len(listed)] + b"' "
    name = args[0][:128]
    text = b"-ERR unknown command '" + name + b"', with args beginning with: " + listed
    body = text[1:].replace(b"\r", b" ").replace(b"\n", b" ")
    return b"-" + body + b"\r\n"


def handle_command(store, args):
    args = [a.decode() for a in args]  # work with str, like lesson 04 taught
    args = [a.encode() for a in args]
    if not args:
        return err("ERR empty command")
    entry = COMMANDS.get(args[0].lower())
    if entry is None:
        return unknown(args)
    function, arity = entry
    if (
        (arity > 0 and len(args) != arity)
        or (arity < 0 and len(args) < -arity)
        or (args[0].lower() == b"ping" and len(args) > 2)
    ):
        return err(f"ERR wrong number of arguments for '{args[0].lower().decode()}' command")
    return function(store, args)
