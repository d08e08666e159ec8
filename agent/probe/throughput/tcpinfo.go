package throughput

import (
	"crypto/tls"
	"net"
	"syscall"
)

// StreamInfo is what the kernel knows about one stream's TCP connection
// (Linux TCP_INFO), for the stream's own side of it.
type StreamInfo struct {
	RTTus         uint32 // smoothed RTT (sender side)
	RcvRTTus      uint32 // receiver-side RTT estimate
	BytesAcked    uint64 // bytes we sent that the peer acknowledged
	BytesReceived uint64 // bytes we received
	SegsOut       uint32
	TotalRetrans  uint32 // segments retransmitted over the connection's life
	BusyUs        uint64 // time with data in flight (sender)
	RwndLimitedUs uint64 // of which limited by the peer's receive window
	SndbufLimited uint64 // of which limited by our send buffer, µs
}

// rawConn returns the syscall view of c's TCP socket, looking through TLS.
func rawConn(c net.Conn) (syscall.RawConn, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}
