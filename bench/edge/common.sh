# Shared by bench/edge/run.sh and bench/edge/ab.sh (sourced, not run).

# A free loopback TCP port.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# split_cores: with SPLIT=1 the load generator (wrk, and the publishers: clients, like the players) runs on CPU 0 and
# the servers on the others, each server sized to the CPUs it gets (nginx's workers; the origin's event loops follow
# the affinity it starts with, .NET's ProcessorCount). On a 2-core VM the shared arrangement compares two servers
# *and* the scheduler's placement of wrk among them; this one compares the servers. Sets LOAD_CPUS_CMD,
# SERVER_CPUS_CMD, NGINX_WORKERS and (unless set) THREADS.
split_cores() {
    LOAD_CPUS_CMD=""; SERVER_CPUS_CMD=""
    if [ "${SPLIT:-0}" = 1 ]; then
        local n; n=$(nproc)
        [ "$n" -ge 2 ] || { echo "SPLIT=1 needs at least 2 CPUs" >&2; exit 1; }
        LOAD_CPUS_CMD="taskset -c 0"; SERVER_CPUS_CMD="taskset -c 1-$((n - 1))"; NGINX_WORKERS=$((n - 1))
        THREADS=${THREADS:-1}
    fi
}

# start_nginx OUT STATIC_PORT [ORIGIN_PORT PROXY_PORT]
# nginx as the peer, as a tuned static server is set up: OUT/www on STATIC_PORT with sendfile, tcp_nopush and
# open_file_cache; with ORIGIN_PORT and PROXY_PORT also proxy_cache + proxy_cache_lock in front of that origin (keyed
# like the edge's cache). Runs as nobody in the foreground of a background job; sets NGINX_PID (the master) and
# NGINX_PIDS (its workers, whose CPU time the scripts count). NGINX_WORKERS (default auto) and SERVER_CPUS_CMD apply.
start_nginx() {
    local out=$1 static=$2 origin=${3:-} proxy=${4:-} proxy_conf=""
    mkdir -p "$out/nginx/logs" "$out/nginx/tmp" "$out/nginx/cache"
    if [ -n "$proxy" ]; then
        proxy_conf="
    proxy_cache_path $out/nginx/cache levels=1:2 keys_zone=edge:16m max_size=4g inactive=10m use_temp_path=off;
    upstream origin { server 127.0.0.1:$origin; keepalive 64; }
    server {
        listen 127.0.0.1:$proxy;
        location / {
            proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\";
            proxy_cache edge; proxy_cache_lock on; proxy_cache_lock_timeout 10s; proxy_cache_lock_age 10s;
            proxy_cache_key \$uri\$is_args\$args;
        }
    }"
    fi
    cat > "$out/nginx/nginx.conf" <<NGINX
worker_processes ${NGINX_WORKERS:-auto};
worker_rlimit_nofile 16384;
pid $out/nginx/nginx.pid;
error_log $out/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;
    keepalive_requests 1000000; keepalive_timeout 75s;
    types { application/vnd.apple.mpegurl m3u8; video/mp4 m4s mp4; }
    client_body_temp_path $out/nginx/tmp/body; proxy_temp_path $out/nginx/tmp/proxy;
    fastcgi_temp_path $out/nginx/tmp/fcgi; uwsgi_temp_path $out/nginx/tmp/uwsgi; scgi_temp_path $out/nginx/tmp/scgi;
    server { listen 127.0.0.1:$static; root $out/www; }$proxy_conf
}
NGINX
    chmod -R a+rwX "$out"
    # shellcheck disable=SC2086 # SERVER_CPUS_CMD is a word list on purpose (taskset -c N, or nothing)
    ${SERVER_CPUS_CMD:-} runuser -u nobody -- nginx -e "$out/nginx/logs/error.log" -p "$out/nginx" -c "$out/nginx/nginx.conf" -g 'daemon off;' &
    NGINX_PID=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$static/" && break; sleep 0.1; done
    NGINX_PIDS=$(pgrep -u nobody -f "nginx: worker process" | tr '\n' ' ')
}
