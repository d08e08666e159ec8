package throughput

import (
	"net"

	"golang.org/x/sys/unix"
)

// tcpInfo reads TCP_INFO from c; ok is false when the kernel or the
// connection type cannot give it.
func tcpInfo(c net.Conn) (StreamInfo, bool) {
	rc, ok := rawConn(c)
	if !ok {
		return StreamInfo{}, false
	}
	var (
		ti  *unix.TCPInfo
		err error
	)
	if cerr := rc.Control(func(fd uintptr) {
		ti, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); cerr != nil || err != nil {
		return StreamInfo{}, false
	}
	return StreamInfo{
		RTTus: ti.Rtt, RcvRTTus: ti.Rcv_rtt, BytesAcked: ti.Bytes_acked, BytesReceived: ti.Bytes_received,
		SegsOut: ti.Segs_out, TotalRetrans: ti.Total_retrans,
		BusyUs: ti.Busy_time, RwndLimitedUs: ti.Rwnd_limited, SndbufLimited: ti.Sndbuf_limited,
	}, true
}
