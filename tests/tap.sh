# tap.sh - TAP for the shell tests, sourced: ok STATUS DESCRIPTION prints
# "ok N - ..." when STATUS is 0, else "not ok N - ..." and counts it in
# $fails (a test may end with `exit $((fails > 0))`).
n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}

# skip DESCRIPTION: "ok N # SKIP DESCRIPTION", a planned test not run here.
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
