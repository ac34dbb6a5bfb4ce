#!/bin/bash
# test-corpus-san.sh - test-corpus.sh against the ASan+UBSan build
# (make SAN=1: build-san/nfqd/nfqd and build-san/tests/rwcheck).
#
# Proves: every corpus message, both directions, runs through nfqd rewrite
# and the core without an ASan or UBSan report (leaks included), with the
# same checks and expected files as the plain run; tshark is left to it.
exec "$(dirname "$0")/test-corpus.sh" -s "$@"
