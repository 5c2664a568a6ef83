"""A module with a syntax error on line 4, for the driver tests of how a SyntaxError is reported."""


def broken(:
    return 1
