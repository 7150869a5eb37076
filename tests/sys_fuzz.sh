#!/bin/sh
# The config parser and builder under libFuzzer for a short, bounded
# time (FUZZ_SECONDS, default 30): any crash, leak, hang or sanitizer
# report fails make check. "make fuzz" runs it longer.
exec "$(dirname "$0")/fuzz.sh" "${FUZZ_SECONDS:-30}"
