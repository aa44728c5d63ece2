// Package agent answers the nova-agent command protocol over XenStore, wire
// compatible with OpenStack Nova's XenAPI host side (driver + dom0 plugin):
// the host writes {"name": …, "value": …} to data/host/<id>, the agent
// writes {"returncode": "<string>", "message": "<string>"} to
// data/guest/<id> and then removes the request.
//
// Behaviour worth knowing (choices where upstream agents differ):
//
//   - Requests are handled one at a time in arrival order (watch on
//     data/host plus a safety-net poll). The reply is written before the
//     request is removed; answered ids are remembered (last 4096) so a
//     request is never run twice, and a computed reply is kept until it
//     could be written.
//   - `features` lists exactly the commands that can succeed with the
//     current options: version, features, keyinit, password, resetnetwork,
//     injectfile, file_inject, and agentupdate only when updates are
//     allowed. kmsactivate always answers 500 and is not listed.
//   - keyinit accepts the host key as a JSON string (what Nova sends) or a
//     number and requires 1 < key < p−1. Any keyinit, even a rejected one,
//     drops the previous key.
//   - password uses the key once: it is wiped whether the password request
//     succeeds or fails, so a retry needs a new keyinit (Nova always sends
//     keyinit right before password). The MD5 key derivation is tried
//     first, then SHA-256 (a host whose openssl defaults to SHA-256).
//     Exactly one trailing "\n" or "\r\n" is removed; an empty password or
//     one containing NUL or a line break is refused.
//   - Unknown commands answer 404 "No such agent command '<name>'" (1.x).
//   - Logs carry the request id, command name and return code only, never
//     values or messages: passwords, keys and file contents stay out.
//   - Guest metrics (metrics.go) follow xe-daemon's keys so XAPI shows
//     memory, OS and vif addresses.
package agent
