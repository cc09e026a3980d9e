# tracer.mk - the tracer's tests: tests/unit/tracer_*.c are built by tests.mk.
# They run babeltrace2 (scripts/deps.sh installs it) on the traces they write.
