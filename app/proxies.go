package app

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// parseTrustedProxies reads TRUSTED_PROXIES: IP addresses (a /32 or /128)
// and CIDR ranges, comma-separated.
func parseTrustedProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(item, "/") {
			p, err = netip.ParsePrefix(item)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(item); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || p.Addr().Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address or CIDR range (want such as 10.0.0.1,192.168.0.0/16,::1)", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ipExtractor is how the site learns a client's address (Echo's RealIP,
// which the request log shows). With no trusted proxies it is the peer
// address, whatever the headers say. With some, a request from one of
// them is attributed to the right-most address of X-Forwarded-For that is
// not itself a trusted proxy: the proxies append, so the entries left of
// it may be forged by the client. X-Real-IP is never believed.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Echo trusts loopback, link-local and private addresses by default:
	// only the configured ones here.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP:   net.IP(p.Addr().AsSlice()),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
