# shellcheck shell=sh
# Sourced by the scripts that install packages (install-deps,
# package-smoke). While they run, /usr/sbin/policy-rc.d answers 101 (action
# forbidden), so the packages' maintainer scripts start and restart no
# service through invoke-rc.d: the tests start private PostgreSQL, MariaDB
# and httpd instances themselves, and package-smoke runs apache2 through
# apache2ctl. A policy-rc.d that is there already (Docker images ship one)
# is left as it is; only the one made here is removed. The caller's
# as_root, when set (sudo), runs the commands as root.

POLICY_RC_D=/usr/sbin/policy-rc.d
policy_rc_d_made_here=""

# Makes the policy-rc.d where there is none (noclobber: in one step).
hold_services() {
    # shellcheck disable=SC2016
    if ${as_root:-} sh -c 'set -C && printf "#!/bin/sh\nexit 101\n" >"$1" \
                     && chmod 755 "$1"' sh "$POLICY_RC_D" 2>/dev/null; then
        policy_rc_d_made_here=yes
    fi
}

# Removes the policy-rc.d hold_services made, if it made one.
release_services() {
    if [ -n "$policy_rc_d_made_here" ]; then
        ${as_root:-} rm -f "$POLICY_RC_D"
        policy_rc_d_made_here=""
    fi
}
