#!/bin/sh
# Issue 10 benchmark (not a test): boot-finished uptime of Debian 12 + systemd
# with guestbridge's .deb (apply mode, no cloud-init) vs the same image with
# cloud-init and its ConfigDrive datasource doing the job, same config drive
# and NICs, in one run under qemu TCG. Needs root and what `make test` needs.
# Takes ~5-10 minutes (two images, two boots).
set -eu
cd "$(dirname "$0")/.."
exec go test -run '^$' -bench '^BenchmarkBootApplyVsCloudInit$' -benchtime 1x -timeout 60m -v ./internal/systest/
