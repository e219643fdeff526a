# Never even connects: returns the message it was given.
EXPECT = "returned the message it was given, not the server's reply"


def echo_client(address, message):
    return message
