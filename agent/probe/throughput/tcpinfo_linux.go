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

// setRcvLowat asks the kernel to wake each stream's reader only once
// lowat bytes are queued (clamped to 16–256 KiB; below 16 KiB, nothing is
// changed). A reader woken for every packet spends more CPU in the Go
// scheduler than in copying; reads still return whatever is queued, so
// the count stays exact.
func setRcvLowat(conns []net.Conn, lowat int) {
	if lowat < 16<<10 {
		return
	}
	lowat = min(lowat, 256<<10)
	for _, c := range conns {
		if rc, ok := rawConn(c); ok {
			_ = rc.Control(func(fd uintptr) {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, lowat)
			})
		}
	}
}
