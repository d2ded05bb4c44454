// Package deploy holds the files that run the portal as a service: the
// container image (Dockerfile), a compose file against a MongoDB replica
// set, a hardened systemd unit and an nginx reverse proxy. Its tests
// check each with what runs on this machine, and build the binary exactly
// as the Dockerfile does (make deploy-check).
package deploy
