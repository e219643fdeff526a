# Lists every argument of an unknown command, however long.
EXPECT = "while the list built so far is shorter than 128"


def bulk(value):
    return b"$%d\r\n%b\r\n" % (len(value), value)


def error(text):
    return b"-" + text.replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"


def to_integer(value):
    """The number value spells if Redis would call it an integer, else None."""
    try:
        number = int(value)
    except ValueError:
        return None
    if b"%d" % number != value or not -(2**63) <= number < 2**63:
        return None  # '+1', '01', ' 1', '1_0' and '-0' are not written the way Redis writes numbers
    return number


ARITY = {
    b"PING": (1, 2),
    b"ECHO": (2, 2),
    b"SET": (3, 99),
    b"GET": (2, 2),
    b"DEL": (2, 99),
    b"EXISTS": (2, 99),
    b"INCR": (2, 2),
}


def handle_command(store, args):
    name = args[0].upper()
    if name not in ARITY:
        shown = b""
        for arg in args[1:]:
            shown += b"'" + arg + b"' "
        return error(
            b"ERR unknown command '" + args[0][:128] + b"', with args beginning with: " + shown
        )
    low, high = ARITY[name]
    if not low <= len(args) <= high:
        return error(b"ERR wrong number of arguments for '" + name.lower() + b"' command")
    if name == b"PING":
        return b"+PONG\r\n" if len(args) == 1 else bulk(args[1])
    if name == b"ECHO":
        return bulk(args[1])
    if name == b"SET":
        if len(args) > 3:
            return error(b"ERR syntax error")
        store[args[1]] = args[2]
        return b"+OK\r\n"
    if name == b"GET":
        value = store.get(args[1])
        return b"$-1\r\n" if value is None else bulk(value)
    if name == b"DEL":
        return b":%d\r\n" % sum(store.pop(key, None) is not None for key in args[1:])
    if name == b"EXISTS":
        return b":%d\r\n" % sum(key in store for key in args[1:])
    # INCR
    number = to_integer(store.get(args[1], b"0"))
    if number is None:
        return error(b"ERR value is not an integer or out of range")
    if number == 2**63 - 1:
        return error(b"ERR increment or decrement would overflow")
    store[args[1]] = b"%d" % (number + 1)
    return b":%d\r\n" % (number + 1)
