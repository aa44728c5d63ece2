#!/usr/bin/python3
"""Play OpenStack Nova's host side of the nova-agent protocol, for tests.

Behaves like the XenAPI driver (nova/virt/xenapi/agent.py) plus the dom0
plugin (agent.py): requests are written with `xenstore-write` as
json.dumps({"name": ..., "value": ...}) to data/host/<uuid>, the reply is
polled with `xenstore-read data/guest/<uuid>` every 0.5 s for up to 30 s,
and on timeout the request is removed with `xenstore-rm`. Passwords are
encrypted like SimpleDH: an 80-bit private key, p = 2^107-1, g = 5, and
`openssl enc -aes-128-cbc -a -A -nosalt -pass pass:<shared>` (with `-md md5`
or OpenSSL's default digest).

The xenstore-* tools find the daemon through $XENSTORED_PATH. Relative
paths resolve under /local/domain/0 over the socket, as the guest's do.

Usage:
  nova_host.py version
  nova_host.py features
  nova_host.py resetnetwork
  nova_host.py set_password PASSWORD md5|default
  nova_host.py inject_file PATH CONTENTS
  nova_host.py raw NAME VALUE_JSON        (prints the raw reply)
Prints one JSON document on success; exits 1 with a message on stderr on
failure (AgentError / TimeoutError, as Nova would raise).
"""

import base64
import binascii
import json
import os
import subprocess
import sys
import time
import uuid

P = 162259276829213363391578010288127  # 2**107 - 1
G = 5
DEFAULT_TIMEOUT = 30
POLL = 0.5


class AgentError(Exception):
    pass


def xs(tool, *args):
    return subprocess.run(["xenstore-" + tool] + list(args), capture_output=True, text=True)


def new_id():
    # dom0 uses `uuidgen` for features and nova a uuid4 otherwise.
    try:
        out = subprocess.run(["uuidgen"], capture_output=True, text=True, check=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    return str(uuid.uuid4())


def wait_for_agent(path, timeout):
    start = time.time()
    while time.time() - start < timeout:
        r = xs("read", path)
        value = r.stdout.strip() if r.returncode == 0 else "None"
        if value != "None":
            try:
                json.loads(value)
            except ValueError:
                value = json.dumps(value)
            return value
        time.sleep(POLL)
    return None


def call_agent(name, value, timeout=DEFAULT_TIMEOUT, req_id=None):
    """The dom0 plugin: write the request, poll for the reply."""
    req_id = req_id or new_id()
    request = json.dumps({"name": name, "value": value})
    r = xs("write", "data/host/" + req_id, request)
    if r.returncode != 0:
        raise AgentError("xenstore-write failed: " + r.stderr.strip())
    reply = wait_for_agent("data/guest/" + req_id, timeout)
    if reply is None:
        xs("rm", "data/host/" + req_id)
        raise AgentError("TIMEOUT: No response from agent within %s seconds." % timeout)
    return reply


def nova_call(name, value, success_codes=("0",)):
    """nova's _call_agent: json.loads, string return codes, strip \\r\\n."""
    ret = json.loads(call_agent(name, value))
    if ret["returncode"] not in success_codes:
        raise AgentError("%s failed: returncode %r message %r" % (name, ret["returncode"], ret["message"]))
    return ret["message"].replace("\\r\\n", "")


def features():
    # dom0's _get_agent_features compares against 0; this follows nova's
    # string comparison, then splits on "," with no trimming.
    ret = json.loads(call_agent("features", ""))
    if ret["returncode"] != "0":
        return []
    return ret["message"].split(",")


class SimpleDH(object):
    def __init__(self):
        self._private = int(binascii.hexlify(os.urandom(10)), 16)
        self._public = pow(G, self._private, P)
        self._shared = None

    def get_public(self):
        return self._public

    def compute_shared(self, other):
        self._shared = pow(other, self._private, P)
        return self._shared

    def encrypt(self, text, md):
        cmd = ["openssl", "enc", "-aes-128-cbc", "-a", "-A", "-nosalt", "-pass", "pass:%s" % self._shared]
        if md != "default":
            cmd += ["-md", md]
        r = subprocess.run(cmd, input=text, capture_output=True, text=True)
        if r.returncode != 0:
            raise AgentError("openssl failed: " + r.stderr.strip())
        return r.stdout.strip("\n")


def set_password(password, md):
    dh = SimpleDH()
    agent_pub = nova_call("keyinit", str(dh.get_public()), ("D0",))
    dh.compute_shared(int(agent_pub))
    enc = dh.encrypt(password + "\n", md)
    return nova_call("password", enc)


def inject_file(path, contents):
    feats = features()
    if "file_inject" in feats:
        value = {"b64_path": base64.b64encode(path.encode()).decode(),
                 "b64_file": base64.b64encode(contents.encode()).decode()}
        return {"form": "file_inject", "message": nova_call("file_inject", value)}
    if "injectfile" in feats:
        value = base64.b64encode(("%s,%s" % (path, contents)).encode()).decode()
        return {"form": "injectfile", "message": nova_call("injectfile", value)}
    raise AgentError("NOT IMPLEMENTED: Agent does not support file injection.")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "version":
        out = nova_call("version", "agent")
    elif cmd == "features":
        out = features()
    elif cmd == "resetnetwork":
        out = nova_call("resetnetwork", "", ("0", "500"))
    elif cmd == "set_password":
        out = set_password(args[0], args[1])
    elif cmd == "inject_file":
        out = inject_file(args[0], args[1])
    elif cmd == "raw":
        out = json.loads(call_agent(args[0], json.loads(args[1])))
    else:
        raise SystemExit("unknown command %r" % cmd)
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except AgentError as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(1)
