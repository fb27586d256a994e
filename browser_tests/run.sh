#!/usr/bin/env bash
# Browser tests of the Message Center page in headless Chromium, against a bench site with the app
# installed. Starts (and stops) its own web server, socket.io server and loopback SMTP server.
#
#   MC_BENCH               bench directory (default ~/frappe-bench)
#   MC_BROWSER_SITE        site to test (default $MC_TEST_SITE or mc-test.localhost)
#   MC_BROWSER_WEB_PORT    web server port (default 8014)
#   MC_BROWSER_SOCKETIO    socket.io port (default 9014; written to the site's config while the tests run)
#   MC_BROWSER_SMTP_PORT   SMTP capture port (default 2514)
#   CHROMIUM               browser binary (default /usr/bin/chromium)
#
# Screenshots and server logs go to test-artifacts/browser/ in the repository.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BENCH=${MC_BENCH:-$HOME/frappe-bench}
SITE=${MC_BROWSER_SITE:-${MC_TEST_SITE:-mc-test.localhost}}
WEB_PORT=${MC_BROWSER_WEB_PORT:-8014}
SOCKETIO_PORT=${MC_BROWSER_SOCKETIO:-9014}
SMTP_PORT=${MC_BROWSER_SMTP_PORT:-2514}
ARTIFACTS="$REPO/test-artifacts/browser"
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
started=()
previous_socketio_port=""

# Sets (or, with "none", removes) socketio_port in the site's config.
set_socketio_port() {
	"$BENCH/env/bin/python" - "$BENCH/sites/$SITE/site_config.json" "$1" <<'EOF'
import json, sys
path, value = sys.argv[1], sys.argv[2]
config = json.load(open(path))
if value == "none":
	config.pop("socketio_port", None)
else:
	config["socketio_port"] = int(value)
with open(path, "w") as file:
	json.dump(config, file, indent=1)
EOF
}

cleanup() {
	for pid in "${started[@]}"; do
		kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
	done
	[ -n "$previous_socketio_port" ] && set_socketio_port "$previous_socketio_port"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.5
	done
}
start() { # start LOGFILE COMMAND... (own process group, so cleanup stops its children too)
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 &
	started+=($!)
}

[ -d "$BENCH/sites/$SITE" ] || fail "no site $SITE in $BENCH"
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM"
for port in "$WEB_PORT" "$SOCKETIO_PORT" "$SMTP_PORT"; do
	port_free "$port" || fail "port $port is in use"
done
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/*.log
rm -rf "$ARTIFACTS/mail"

say "Node packages"
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund) || fail "npm ci"
fi

say "Assets and migrations of $SITE"
(cd "$BENCH" && bench build --app message_center >"$ARTIFACTS/build.log" 2>&1) || fail "bench build (see $ARTIFACTS/build.log)"
(cd "$BENCH" && bench --site "$SITE" migrate >"$ARTIFACTS/migrate.log" 2>&1) || fail "migrate (see $ARTIFACTS/migrate.log)"

say "Servers: web :$WEB_PORT, socket.io :$SOCKETIO_PORT, SMTP :$SMTP_PORT"
previous_socketio_port=$("$BENCH/env/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1])).get('socketio_port', 'none'))" "$BENCH/sites/$SITE/site_config.json")
set_socketio_port "$SOCKETIO_PORT" || fail "set socketio_port"
start "$ARTIFACTS/smtp.log" "$BENCH/env/bin/python" "$HERE/smtp_capture.py" "$SMTP_PORT" "$ARTIFACTS/mail"
# DEV_SERVER makes the desk connect to socket.io on its own port, as under `bench start`.
start "$ARTIFACTS/web.log" env DEV_SERVER=1 bash -c "cd '$BENCH' && exec bench --site '$SITE' serve --port '$WEB_PORT' --noreload"
start "$ARTIFACTS/socketio.log" env FRAPPE_SOCKETIO_PORT="$SOCKETIO_PORT" bash -c \
	"cd '$BENCH' && exec node -r '$HERE/localhost_resolver.cjs' apps/frappe/socketio.js"
wait_for 60 curl -sf -H "Host: $SITE" "http://127.0.0.1:$WEB_PORT/api/method/ping" || fail "web server did not start (see $ARTIFACTS/web.log)"
wait_for 20 grep -q "listening" "$ARTIFACTS/socketio.log" || fail "socket.io did not start (see $ARTIFACTS/socketio.log)"
wait_for 20 grep -q "SMTP capture" "$ARTIFACTS/smtp.log" || fail "SMTP capture did not start (see $ARTIFACTS/smtp.log)"

say "Fixtures"
(cd "$BENCH" && bench --site "$SITE" execute message_center.testing.desk_fixtures.create --kwargs "{\"smtp_port\": $SMTP_PORT}") \
	>"$ARTIFACTS/fixtures.json" 2>"$ARTIFACTS/fixtures.log" || fail "fixtures (see $ARTIFACTS/fixtures.log)"
tail -n 1 "$ARTIFACTS/fixtures.json" >"$ARTIFACTS/fixtures.last.json"

say "Browser tests"
(
	cd "$HERE" &&
		MC_BASE_URL="http://$SITE:$WEB_PORT" MC_FIXTURES="$ARTIFACTS/fixtures.last.json" MC_ARTIFACTS="$ARTIFACTS" \
			MC_MAIL_DIR="$ARTIFACTS/mail" MC_BENCH="$BENCH" MC_SITE="$SITE" \
			node --test --test-concurrency=1 tests/
)
status=$?
[ $status -eq 0 ] && echo "browser tests: passed" || echo "browser tests: FAILED (screenshots and logs in $ARTIFACTS)"
exit $status
