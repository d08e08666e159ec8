// Package deploy holds the Debian packaging of probity-agent and
// probity-collector: the nfpm configurations (nfpm/), the hardened systemd
// units (systemd/) and the maintainer scripts (debian/), built by
// scripts/package.sh. It has no Go code; its tests inspect the built
// packages and install, upgrade, remove and purge them in a Debian chroot
// (README.md describes the packages).
package deploy
