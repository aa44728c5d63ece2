#!/bin/sh
# Boot benchmark (issue 9): the same Debian 12 + systemd + cloud-init image
# and config drive, booted once with cloud-init's own ConfigDrive path and
# once with guestbridge (seed mode), in one run. Prints boot-finished and
# network-ready uptimes, cloud-init-local's and guestbridge-boot's unit
# times and the ratios. Needs root and what `make deps` installs; a cold
# cache first builds the images (about a minute). Under TCG expect 2-5 min.
set -eu
cd "$(dirname "$0")/../.."
exec go test -count=1 -run '^$' -bench BootCloudInitVsGuestbridge -benchtime 1x -timeout 40m ./internal/systest
