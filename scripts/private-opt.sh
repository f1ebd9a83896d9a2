# Sourced inside `unshare --mount` by cryptolib-env.sh and module-env.sh: a tmpfs over /opt with each of the
# host's own /opt entries bound back, so that what the caller adds under /opt (santesocial) exists only in
# this namespace and the host's /opt is never written. $1: an empty directory to hold the host's /opt.
private_opt() {
    local hostopt=$1 entry name
    mount --bind /opt "$hostopt"
    mount -t tmpfs cpsd-private-opt /opt
    for entry in "$hostopt"/*; do
        [[ -e "$entry" ]] || continue
        name=$(basename "$entry")
        if [[ -d "$entry" ]]; then mkdir -p "/opt/$name"; else touch "/opt/$name"; fi
        mount --bind "$entry" "/opt/$name"
    done
}
