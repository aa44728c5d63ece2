#!/usr/bin/python3
"""Load a datasource with cloud-init's own code and print what it got, as JSON.

usage: cloudinit_load.py nocloud|configdrive CLOUD_DIR MACS_JSON
  CLOUD_DIR holds seed/nocloud (NoCloud) or seed/config_drive (ConfigDrive).
  MACS_JSON maps lower-case MAC -> interface name (cloud-init would look them up on
  this machine otherwise).
Output keys: instance_id, hostname, public_keys, availability_zone, userdata,
vendordata (latin-1 strings or null) and netplan: the network config as the
netplan YAML cloud-init would hand to netplan (v2 passes through; v1 is rendered by
cloud-init's netplan renderer).
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from unittest import mock  # noqa: E402

import yaml  # noqa: E402
from cloudinit import distros, helpers, settings  # noqa: E402
from cloudinit.net import netplan, network_state  # noqa: E402
from cloudinit.sources import DataSourceConfigDrive as dscd  # noqa: E402
from cloudinit.sources import DataSourceNoCloud as dsnc  # noqa: E402

kind, cloud_dir, macs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) or {}
run_dir = tempfile.mkdtemp()
paths = helpers.Paths({"cloud_dir": cloud_dir, "run_dir": run_dir})
distro = distros.fetch("debian")("debian", {}, paths)

with mock.patch("cloudinit.net.get_interfaces_by_mac", return_value={m: n for m, n in macs.items()}), \
     mock.patch.object(dsnc.dmi, "read_dmi_data", return_value=None), \
     mock.patch.object(dsnc.util, "get_cmdline", return_value=""):
    if kind == "nocloud":
        cfg = dict(settings.CFG_BUILTIN, datasource={"NoCloud": {"fs_label": None}})
        ds = dsnc.DataSourceNoCloud(cfg, distro, paths)
    else:
        cfg = dict(settings.CFG_BUILTIN)
        ds = dscd.DataSourceConfigDrive(cfg, distro, paths)
        ds.known_macs = {m: n for m, n in macs.items()}
        # Only the seed dir: never probe this machine's block devices.
        dscd.find_candidate_devs = lambda *a, **k: []
    if not ds.get_data():
        print(json.dumps({"error": "get_data returned False"}))
        sys.exit(1)
    netcfg = ds.network_config

# As cloud-init's stages do (_remove_top_level_network_key).
if netcfg and "network" in netcfg:
    netcfg = netcfg["network"]

if netcfg is None:
    rendered = None
elif netcfg.get("version") == 2:
    rendered = yaml.safe_dump({"network": netcfg}, sort_keys=True)
else:
    target = tempfile.mkdtemp()
    ns = network_state.parse_net_config_data(netcfg)
    netplan.Renderer({"netplan_path": "out.yaml"}).render_network_state(ns, target=target)
    with open(os.path.join(target, "out.yaml")) as f:
        rendered = f.read()


def text(b):
    if b is None:
        return None
    return b.decode("latin-1") if isinstance(b, bytes) else str(b)


print(json.dumps({
    "instance_id": ds.get_instance_id(),
    "hostname": ds.get_hostname().hostname,
    "public_keys": ds.get_public_ssh_keys(),
    "availability_zone": ds.availability_zone,
    "userdata": text(ds.userdata_raw),
    "vendordata": text(ds.vendordata_raw),
    "netplan": rendered,
}))
