#!/usr/bin/env python3
"""Generate the snmpsim recordings in snmprec/ (stdlib only).

    python3 gen.py [OUTDIR]      # default: snmprec/ next to this file

Each file is one simulated device, records sorted by numeric OID. With
snmpsimd's default layout a file NAME.snmprec answers to community NAME.
Counters that must move use snmpsim's numeric variation module
(65:numeric = Counter32, 70:numeric = Counter64, rate per second).
profile_test.go checks that the checked-in files equal this script's output
and that every read of the matching profile is served.
"""
import os
import sys

SYS = '1.3.6.1.2.1.1.'
IF = '1.3.6.1.2.1.2.2.1.'
IFX = '1.3.6.1.2.1.31.1.1.1.'
DOT3 = '1.3.6.1.2.1.10.7.2.1.'
ENT = '1.3.6.1.2.1.47.1.1.1.1.'
ENTSTATE = '1.3.6.1.2.1.131.1.1.1.'
PETH_PORT = '1.3.6.1.2.1.105.1.1.1.'
PETH_MAIN = '1.3.6.1.2.1.105.1.3.1.1.'
LLDP_LOC = '1.0.8802.1.1.2.1.3.7.1.'
LLDP_REM = '1.0.8802.1.1.2.1.4.1.1.'
STP = '1.3.6.1.2.1.17.2.'
HR_STORAGE = '1.3.6.1.2.1.25.2.3.1.'
HR_PROC = '1.3.6.1.2.1.25.3.3.1.'
VRRP = '1.3.6.1.2.1.68.1.3.1.'
UPS = '1.3.6.1.2.1.33.1.'


def hexstr(b):
    return bytes(b).hex()


def mac_index(mac):
    return '.'.join(str(o) for o in mac)


def system(descr, oid, name, location, uptime):
    return [(SYS + '1.0', '4', descr), (SYS + '2.0', '6', oid), (SYS + '3.0', '67', str(uptime)),
            (SYS + '4.0', '4', 'ict@school.example'), (SYS + '5.0', '4', name), (SYS + '6.0', '4', location)]


def interface(i, name, speed_mbps, up=True, seed=1, hc=True, wrap32=False, alias='', iftype=6, mac=None):
    """ifTable + ifXTable rows of one interface. Octet counters move at a
    rate derived from seed; wrap32 starts the 32-bit ifInOctets just below
    2^32 so that it wraps within seconds."""
    rate = 1000 * seed + 125000
    mac = mac or [0, 0x11, 0x22, 0x33, (i >> 8) & 255, i & 255]
    in32 = 'rate=%d,initial=%d,wrap=1' % (rate * 40 if wrap32 else rate, 4294960000 if wrap32 else seed * 1000)
    r = [(IF + '1.%d' % i, '2', str(i)), (IF + '2.%d' % i, '4', name), (IF + '3.%d' % i, '2', str(iftype)),
         (IF + '4.%d' % i, '2', '1500'),
         (IF + '5.%d' % i, '66', str(min(speed_mbps * 1000000, 4294967295))),
         (IF + '6.%d' % i, '4x', hexstr(mac)),
         (IF + '7.%d' % i, '2', '1'), (IF + '8.%d' % i, '2', '1' if up else '2'),
         (IF + '10.%d' % i, '65:numeric', in32),
         (IF + '13.%d' % i, '65', '0'), (IF + '14.%d' % i, '65:numeric', 'rate=%d,initial=0' % (seed % 3)),
         (IF + '16.%d' % i, '65:numeric', 'rate=%d,initial=%d,wrap=1' % (rate * 2, seed * 2000)),
         (IF + '19.%d' % i, '65', str(seed % 2)), (IF + '20.%d' % i, '65', '0'),
         (IFX + '1.%d' % i, '4', name), (IFX + '15.%d' % i, '66', str(speed_mbps)), (IFX + '18.%d' % i, '4', alias)]
    if hc:
        r += [(IFX + '6.%d' % i, '70:numeric', 'rate=%d,initial=%d' % (rate, seed * 1000)),
              (IFX + '10.%d' % i, '70:numeric', 'rate=%d,initial=%d' % (rate * 2, seed * 2000))]
    return r


def duplex(i, full=True):
    return [(DOT3 + '1.%d' % i, '2', str(i)), (DOT3 + '19.%d' % i, '2', '3' if full else '2')]


def entity(i, descr, cls, name, parent=0, serial='', model='', sw='', fw=''):
    return [(ENT + '2.%d' % i, '4', descr), (ENT + '4.%d' % i, '2', str(parent)), (ENT + '5.%d' % i, '2', str(cls)),
            (ENT + '7.%d' % i, '4', name), (ENT + '9.%d' % i, '4', fw), (ENT + '10.%d' % i, '4', sw),
            (ENT + '11.%d' % i, '4', serial), (ENT + '13.%d' % i, '4', model)]


def lldp(local_port, local_port_id, rem_name, rem_port, caps, rem_mac):
    idx = '0.%d.1' % local_port
    return [(LLDP_REM + '4.' + idx, '2', '4'), (LLDP_REM + '5.' + idx, '4x', hexstr(rem_mac)),
            (LLDP_REM + '6.' + idx, '2', '5'), (LLDP_REM + '7.' + idx, '4', rem_port),
            (LLDP_REM + '8.' + idx, '4', rem_port), (LLDP_REM + '9.' + idx, '4', rem_name),
            (LLDP_REM + '11.' + idx, '4x', '2c'), (LLDP_REM + '12.' + idx, '4x', '%02x' % caps)]


def lldp_local(port, port_id):
    return [(LLDP_LOC + '2.%d' % port, '2', '5'), (LLDP_LOC + '3.%d' % port, '4', port_id),
            (LLDP_LOC + '4.%d' % port, '4', port_id)]


CAP_BRIDGE, CAP_WLAN_AP, CAP_ROUTER = 0x20, 0x10, 0x08  # BITS: bit 0 is the top bit of the first octet


def access_switch():
    """48-port PoE Catalyst 2960-X with two 10G uplinks (cisco-switch)."""
    r = system('Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, RELEASE SOFTWARE (fc1)',
               '1.3.6.1.4.1.9.1.1208', 'edge-sw-b1', 'Block B comms cupboard', 864000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '51'))
    r += interface(1, 'Vl1', 1000, hc=False, iftype=53)  # virtual: no HC counters, so the 32-bit fallback is read
    for p in range(1, 49):
        i = 10100 + p
        speed = 100 if p == 12 else 1000
        up = p % 8 != 0
        r += interface(i, 'Gi1/0/%d' % p, speed, up=up, seed=p, wrap32=(p == 47), alias='room B%02d' % p)
        r += duplex(i, full=(p != 7))
        r += lldp_local(p, 'Gi1/0/%d' % p)
    for u in (1, 2):
        i = 10148 + u
        r += interface(i, 'Te1/0/%d' % u, 10000, seed=100 + u, alias='uplink to core-sw')
        r += duplex(i)
        r += lldp_local(48 + u, 'Te1/0/%d' % u)
        r += lldp(48 + u, 'Te1/0/%d' % u, 'core-sw', 'xe-0/1/%d' % (u - 1), CAP_BRIDGE | CAP_ROUTER, [0, 0x1c, 0x73, 0, 0, u])
    for p in range(1, 11):
        r += lldp(p, 'Gi1/0/%d' % p, 'ap-b1-%02d' % p, 'eth0', CAP_BRIDGE | CAP_WLAN_AP, [0x3c, 0x41, 0x0e, 0, 1, p])
    r += entity(1001, 'WS-C2960X-48FPD-L', 3, 'Switch 1', serial='FOC1932X0AB', model='WS-C2960X-48FPD-L',
                sw='15.2(7)E8', fw='15.2(7r)E')
    r += entity(1002, 'Switch 1 - Power Supply 0', 6, 'Switch 1 - Power Supply 0', parent=1001, model='PWR-C2-1025WAC')
    r += entity(1003, 'Switch 1 - FAN 0', 7, 'Switch 1 - FAN 0', parent=1001)
    for p in range(1, 49):
        r += entity(1010 + p, 'Gigabit Ethernet Port', 10, 'GigabitEthernet1/0/%d' % p, parent=1001)
    # CISCO-ENVMON-MIB: one supply fitted, the second slot empty.
    r += [('1.3.6.1.4.1.9.9.13.1.3.1.2.1006', '4', 'SW#1, Sensor#1, Status is GREEN'),
          ('1.3.6.1.4.1.9.9.13.1.3.1.3.1006', '66', '38'), ('1.3.6.1.4.1.9.9.13.1.3.1.6.1006', '2', '1'),
          ('1.3.6.1.4.1.9.9.13.1.5.1.2.1011', '4', 'Sw1, PSA Normal'), ('1.3.6.1.4.1.9.9.13.1.5.1.3.1011', '2', '1'),
          ('1.3.6.1.4.1.9.9.13.1.5.1.2.1012', '4', 'Sw1, PSB NotExist'), ('1.3.6.1.4.1.9.9.13.1.5.1.3.1012', '2', '5'),
          ('1.3.6.1.4.1.9.9.109.1.1.1.1.8.1', '66', '12')]
    # POWER-ETHERNET-MIB and CISCO-POWER-ETHERNET-EXT-MIB (milliwatts).
    r += [(PETH_MAIN + '2.1', '66', '740'), (PETH_MAIN + '3.1', '2', '1'), (PETH_MAIN + '4.1', '66', '212')]
    for p in range(1, 49):
        status = 4 if p == 13 else (3 if p <= 30 else 2)
        mw = 6800 + 100 * p if status == 3 else 0
        r += [(PETH_PORT + '3.1.%d' % p, '2', '1'), (PETH_PORT + '6.1.%d' % p, '2', str(status)),
              ('1.3.6.1.4.1.9.9.402.1.2.1.7.1.%d' % p, '66', str(15400 if status == 3 else 0)),
              ('1.3.6.1.4.1.9.9.402.1.2.1.9.1.%d' % p, '66', str(mw)),
              ('1.3.6.1.4.1.9.9.402.1.2.1.11.1.%d' % p, '2', str(1010 + p))]
    r += [(STP + '1.0', '2', '3'), (STP + '4.0', '65', '17'), (STP + '16.0', '2', '2')]
    return r


def core_switch():
    """Core switch with two PSUs, four 10G uplinks (three up), LLDP, VRRP (generic)."""
    r = system('Linux core-sw 6.1.0-18-amd64 #1 SMP x86_64 (simulated core switch)', '1.3.6.1.4.1.8072.3.2.10',
               'core-sw', 'Server room', 2592000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '24'))
    for p in range(1, 21):
        r += interface(p, 'ge-0/0/%d' % (p - 1), 1000, up=p <= 16, seed=200 + p)
        r += duplex(p)
        r += lldp_local(p, 'ge-0/0/%d' % (p - 1))
    for u in range(4):
        i = 21 + u
        r += interface(i, 'xe-0/1/%d' % u, 10000, up=u < 3, seed=300 + u, alias='uplink %d' % u)
        r += duplex(i)
        r += lldp_local(i, 'xe-0/1/%d' % u)
    r += lldp(21, 'xe-0/1/0', 'edge-sw-b1', 'Te1/0/1', CAP_BRIDGE | CAP_ROUTER, [0, 0x11, 0x22, 0, 0, 1])
    r += lldp(22, 'xe-0/1/1', 'edge-sw-b1', 'Te1/0/2', CAP_BRIDGE | CAP_ROUTER, [0, 0x11, 0x22, 0, 0, 1])
    r += lldp(23, 'xe-0/1/2', 'fw-1', 'port1', CAP_ROUTER, [0, 0x09, 0x0f, 0, 0, 9])
    r += lldp(1, 'ge-0/0/0', 'ap-server-room', 'eth0', CAP_BRIDGE | CAP_WLAN_AP, [0x3c, 0x41, 0x0e, 0, 2, 1])
    ents = [(1, 'Core switch chassis', 3, 'Chassis', 0, 'CS24X0001', 'CS-24X', '6.1.0', '2.04'),
            (2, 'Power supply 1, 650W AC', 6, 'PSU 1', 1, 'PS0001', 'PS-650AC', '', ''),
            (3, 'Power supply 2, 650W AC', 6, 'PSU 2', 1, 'PS0002', 'PS-650AC', '', ''),
            (4, 'Fan tray 1', 7, 'Fan 1', 1, '', '', '', ''),
            (5, 'Fan tray 2', 7, 'Fan 2', 1, '', '', '', ''),
            (6, '4x10G SFP+ uplink module', 9, 'Module 1', 1, 'UM0001', 'UM-4X10G', '', '1.1')]
    for (i, descr, cls, name, parent, serial, model, sw, fw) in ents:
        r += entity(i, descr, cls, name, parent=parent, serial=serial, model=model, sw=sw, fw=fw)
        r += [(ENTSTATE + '2.%d' % i, '2', '4'), (ENTSTATE + '3.%d' % i, '2', '3')]
    for n, load in enumerate((10, 20, 15, 5)):
        r += [(HR_PROC + '1.%d' % (196608 + n), '6', '0.0'), (HR_PROC + '2.%d' % (196608 + n), '2', str(load))]
    for (i, typ, descr, units, size, used) in ((1, '1.3.6.1.2.1.25.2.1.2', 'Physical memory', 1024, 8388608, 3145728),
                                               (3, '1.3.6.1.2.1.25.2.1.3', 'Virtual memory', 1024, 9437184, 3250000),
                                               (31, '1.3.6.1.2.1.25.2.1.4', '/', 4096, 7864320, 1048576)):
        r += [(HR_STORAGE + '1.%d' % i, '2', str(i)), (HR_STORAGE + '2.%d' % i, '6', typ),
              (HR_STORAGE + '3.%d' % i, '4', descr), (HR_STORAGE + '4.%d' % i, '2', str(units)),
              (HR_STORAGE + '5.%d' % i, '2', str(size)), (HR_STORAGE + '6.%d' % i, '2', str(used))]
    r += [(STP + '1.0', '2', '3'), (STP + '4.0', '65', '3'), (STP + '16.0', '2', '3')]
    for (vrid, state, prio) in ((10, 3, 200), (20, 2, 100)):
        idx = '21.%d' % vrid
        r += [(VRRP + '2.' + idx, '4x', '00005e0001%02x' % vrid), (VRRP + '3.' + idx, '2', str(state)),
              (VRRP + '4.' + idx, '2', '1'), (VRRP + '5.' + idx, '2', str(prio))]
    return r


def cisco_wlc():
    """AireOS WLC (5508) with 20 APs, two radios each; AP 17 has dropped off."""
    r = system('Cisco Controller', '1.3.6.1.4.1.9.1.1069', 'wlc-1', 'Server room', 1296000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '2'))
    for p in (1, 2):
        r += interface(p, 'Port %d' % p, 10000, seed=400 + p)
    B = '1.3.6.1.4.1.14179.2.2.'
    for n in range(1, 21):
        mac = [0x00, 0x3a, 0x7d, 0x00, 0x01, n]
        m = mac_index(mac)
        up = n != 17
        r += [(B + '1.1.1.' + m, '4x', hexstr(mac)), (B + '1.1.3.' + m, '4', 'ap-%02d' % n),
              (B + '1.1.6.' + m, '2', '1' if up else '2'), (B + '1.1.16.' + m, '4', 'AIR-AP2802I-E-K9'),
              (B + '1.1.17.' + m, '4', 'FCW2201N%03d' % n)]
        for slot in (0, 1):
            idx = m + '.%d' % slot
            channel = (1, 6, 11)[n % 3] if slot == 0 else (36, 40, 44, 48, 52, 56)[n % 6]
            users = 0 if not up else (n * 3 + slot * 7) % 31
            r += [(B + '2.1.1.' + idx, '66', str(slot)), (B + '2.1.2.' + idx, '2', str(1 if slot == 0 else 2)),
                  (B + '2.1.4.' + idx, '2', str(channel)), (B + '2.1.12.' + idx, '2', '2' if up else '1'),
                  (B + '2.1.15.' + idx, '65', str(users)),
                  (B + '13.1.3.' + idx, '2', str(0 if not up else 10 + (n * 7 + slot * 13) % 60))]
            # bsnAPIfChannelNoiseInfoTable: one row per scanned channel.
            if up:
                for k, ch in enumerate((1, 6, 11) if slot == 0 else (36, 40, 44)):
                    r.append((B + '15.1.21.' + idx + '.%d' % ch, '2', str(-95 + (n + k) % 5)))
    return r


def aruba_controller():
    """ArubaOS 7030 controller with 8 APs, two radios each; AP 8 is down."""
    # The product number in this sysObjectID is arbitrary: only the
    # ...14823.1.1 prefix matters to the profile.
    r = system('ArubaOS (MODEL: Aruba7030), Version 8.10.0.7 (simulated)', '1.3.6.1.4.1.14823.1.1.9999',
               'aruba-mc-1', 'Server room', 1728000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '4'))
    for p in range(1, 5):
        r += interface(p, 'GE0/0/%d' % (p - 1), 1000, up=p <= 2, seed=500 + p)
    AP = '1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.'
    RADIO = '1.3.6.1.4.1.14823.2.2.1.5.2.1.5.1.'
    for n in range(1, 9):
        mac = [0x20, 0x4c, 0x03, 0x00, 0x02, n]
        m = mac_index(mac)
        up = n != 8
        r += [(AP + '1.' + m, '4x', hexstr(mac)), (AP + '3.' + m, '4', 'aruba-ap-%02d' % n),
              (AP + '4.' + m, '4', 'school'), (AP + '19.' + m, '2', '1' if up else '2')]
        for radio in (1, 2):
            idx = m + '.%d' % radio
            r += [(RADIO + '2.' + idx, '2', str(radio)), (RADIO + '3.' + idx, '2', str((6, 44)[radio - 1])),
                  (RADIO + '6.' + idx, '2', str(0 if not up else 15 + n * radio)),
                  (RADIO + '7.' + idx, '2', str(0 if not up else (n * 5 + radio) % 25))]
    return r


def unifi_ap():
    """UniFi AP AC Pro answering net-snmp's Linux sysObjectID (unifi by sysDescr)."""
    r = system('UAP-AC-Pro 6.6.77.15402', '1.3.6.1.4.1.8072.3.2.10', 'uap-library', 'Library', 604800000)
    names = ['lo', 'eth0', 'wifi0', 'wifi1', 'ath0', 'ath1', 'ath2', 'ath3']
    r.append(('1.3.6.1.2.1.2.1.0', '2', str(len(names))))
    for i, name in enumerate(names, start=1):
        r += interface(i, name, 1000 if name == 'eth0' else 0, seed=600 + i, iftype=24 if name == 'lo' else 6)
    U = '1.3.6.1.4.1.41112.1.6.'
    for (i, name, radio, cu) in ((1, 'wifi0', 'ng', 63), (2, 'wifi1', 'na', 21)):
        r += [(U + '1.1.1.1.%d' % i, '2', str(i)), (U + '1.1.1.2.%d' % i, '4', name), (U + '1.1.1.3.%d' % i, '4', radio),
              (U + '1.1.1.6.%d' % i, '2', str(cu))]
    for (i, name, radio, channel, essid, stations) in ((1, 'ath0', 'ng', 6, 'School', 9), (2, 'ath1', 'na', 44, 'School', 23),
                                                       (3, 'ath2', 'ng', 6, 'Guest', 2), (4, 'ath3', 'na', 44, 'Guest', 4)):
        r += [(U + '1.2.1.1.%d' % i, '2', str(i)), (U + '1.2.1.4.%d' % i, '2', str(channel)),
              (U + '1.2.1.6.%d' % i, '4', essid), (U + '1.2.1.7.%d' % i, '4', name),
              (U + '1.2.1.8.%d' % i, '2', str(stations)), (U + '1.2.1.9.%d' % i, '4', radio)]
    r += [(U + '3.1.0', '4', '10.20.0.31'), (U + '3.3.0', '4', 'UAP-AC-Pro'), (U + '3.5.0', '2', '604800'),
          (U + '3.6.0', '4', '6.6.77.15402')]
    return r


def ups_on_battery():
    """A UPS (UPS-MIB network card) running on battery for 7 minutes."""
    r = system('Simulated UPS network management card (UPS-MIB)', '1.3.6.1.2.1.33', 'ups-1', 'Server room', 3456000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '1'))
    r += interface(1, 'eth0', 100, seed=700)
    r += [(UPS + '1.1.0', '4', 'Example Power'), (UPS + '1.2.0', '4', 'EP-3000 RM'),
          (UPS + '2.1.0', '2', '2'), (UPS + '2.2.0', '2', '420'), (UPS + '2.3.0', '2', '14'),
          (UPS + '2.4.0', '2', '62'), (UPS + '4.1.0', '2', '5')]
    return r


def aruba_switch():
    """ArubaOS-Switch 2930F, 24 PoE ports and 4 SFP+ (aruba-switch)."""
    # The product number in this sysObjectID is arbitrary: only the
    # hpEtherSwitch prefix ...11.2.3.7.11 matters to the profile.
    r = system('Aruba JL261A 2930F-24G-PoE+-4SFP Switch, revision WC.16.10.0012 (simulated)',
               '1.3.6.1.4.1.11.2.3.7.11.9999', 'edge-sw-c1', 'Block C comms cupboard', 432000000)
    r.append(('1.3.6.1.2.1.2.1.0', '2', '28'))
    for p in range(1, 29):
        r += interface(p, str(p), 10000 if p > 24 else 1000, up=p <= 20 or p == 25, seed=800 + p)
        r += duplex(p)
    r += entity(1, 'Aruba JL261A 2930F-24G-PoE+-4SFP Switch', 3, 'Chassis', serial='CN12KP0001', model='JL261A',
                sw='WC.16.10.0012', fw='WC.16.01.0008')
    r += entity(2, 'Internal power supply', 6, 'Power Supply 1', parent=1)
    r += [(ENTSTATE + '3.1', '2', '3'), (ENTSTATE + '3.2', '2', '3')]
    r += [(PETH_MAIN + '2.1', '66', '370'), (PETH_MAIN + '3.1', '2', '1'), (PETH_MAIN + '4.1', '66', '96')]
    for p in range(1, 25):
        status = 3 if p <= 12 else 2
        r += [(PETH_PORT + '3.1.%d' % p, '2', '1'), (PETH_PORT + '6.1.%d' % p, '2', str(status)),
              ('1.3.6.1.4.1.11.2.14.11.1.9.1.1.1.3.1.%d' % p, '2', str(7900 + 10 * p if status == 3 else 0))]
    r += [(STP + '1.0', '2', '3'), (STP + '4.0', '65', '5'), (STP + '16.0', '2', '3')]
    return r


DEVICES = {
    'aruba-switch': aruba_switch,
    'access-switch': access_switch,
    'core-switch': core_switch,
    'cisco-wlc': cisco_wlc,
    'aruba-controller': aruba_controller,
    'unifi-ap': unifi_ap,
    'ups-on-battery': ups_on_battery,
}


def render(records):
    seen = set()
    for oid, _, _ in records:
        if oid in seen:
            raise SystemExit('duplicate OID %s' % oid)
        seen.add(oid)
    records = sorted(records, key=lambda e: tuple(int(v) for v in e[0].split('.')))
    return ''.join('%s|%s|%s\n' % e for e in records)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'snmprec')
    os.makedirs(out, exist_ok=True)
    for name, build in DEVICES.items():
        with open(os.path.join(out, name + '.snmprec'), 'w') as f:
            f.write(render(build()))


if __name__ == '__main__':
    main()
