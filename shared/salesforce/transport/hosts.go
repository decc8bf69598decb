package transport

import (
	"net"
	"net/url"
	"strings"
)

// salesforceDomains are the domains under which Salesforce serves an org's
// API: My Domain (MyDomainName.my.salesforce.com, and a sandbox's
// MyDomainName--sandbox.sandbox.my.salesforce.com), the older instance hosts
// (na1.salesforce.com, cs1.salesforce.com), force.com and site.com for sites,
// cloudforce.com for the oldest My Domains; Government Cloud Plus
// (my.salesforce.mil) and the orgs Alibaba Cloud hosts in China
// (sfcrmproducts.cn, sfcrmapps.cn). [UNCONFIRMED] the .mil and .cn suffixes
// are taken from Salesforce's My Domain URL formats page as summarised by
// clients, not confirmed against a capture; see docs/salesforce-protocol.md §1.
var salesforceDomains = []string{
	"salesforce.com", "force.com", "site.com", "cloudforce.com",
	"salesforce.mil", "sfcrmproducts.cn", "sfcrmapps.cn",
}

// SalesforceURL reports whether raw is an https URL on one of Salesforce's own
// domains, or any URL AllowedURL accepts on a loopback host (the local org
// emulator, over http or https). An instance URL from a login answer or from
// the shared session table must be one: the access token goes there.
func SalesforceURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || !AllowedURL(raw) {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return false
	}
	for _, d := range salesforceDomains {
		if strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
