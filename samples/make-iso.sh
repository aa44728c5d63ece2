#!/bin/sh
# Rebuilds config-2.iso from config-drive/ with the exact flags nova uses
# (nova/virt/configdrive.py), so the sample is what a real cloud attaches.
set -eu
cd "$(dirname "$0")"
genisoimage -o config-2.iso -ldots -allow-lowercase -allow-multidot -l \
  -publisher "OpenStack Compute 29.0.0" -quiet -J -r -V config-2 config-drive
