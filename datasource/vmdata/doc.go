// Package vmdata is the XenStore datasource: it reads a domain's vm-data
// subtree (nova's XenAPI driver, Rackspace) over a xenstore.Client and
// translates it into a datasource.Instance. Package xenstore stays the
// protocol client only.
package vmdata
