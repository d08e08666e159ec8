//go:build !linux

package throughput

import "net"

// tcpInfo is Linux only; elsewhere the probe counts bytes itself.
func tcpInfo(net.Conn) (StreamInfo, bool) { return StreamInfo{}, false }

// setRcvLowat is a Linux tuning; elsewhere readers wake as they will.
func setRcvLowat([]net.Conn, int) {}
