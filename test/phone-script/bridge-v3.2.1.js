/**
 * MessengerBot R bridge v3.2.1 -- botgate's stand-in for the deployed phone script.
 *
 * Written from /work/shared/spec/legacy-protocol.md (ES5 only, Rhino). It keeps a
 * TCP connection to the gateway, forwards chat messages as `analyze` events and
 * sends the gateway's `messageResponse` replies to KakaoTalk with bot.send().
 *
 * Install: MessengerBot R -> new script (API2) -> paste this file -> edit the
 * CONFIG section below (and nothing else) -> compile.
 */

// ===== CONFIG (the only section an operator edits) =====
var BOT_NAME = "LOA.i";
var SECRET_KEY = "paste-the-bot-secret-here";
var SALT = "paste-the-bot-salt-here";
var SERVERS = [
    { host: "192.168.0.10", port: 37888, priority: 1, name: "main" }
];
// ===== END CONFIG =====

var BRIDGE_VERSION = "3.2.1";
var CLIENT_TYPE = "MessengerBotR";
var CONNECT_TIMEOUT_MS = 5000;
var RECONNECT_BASE_MS = 2000;
var RECONNECT_MAX_MS = 60000;
var QUEUE_TTL_MS = 30000;
var QUEUE_MAX = 2000;
var FLUSH_MAX = 10;
var MAX_TEXT_CHARS = 65000;
var ROOM_IDLE_MS = 30 * 24 * 60 * 60 * 1000;
var MEDIA_WAIT_MS = 4000;
var MONITORING_ENABLED = true;

var bot = BotManager.getCurrentBot();

var Bridge = (function () {
    var socket = null;          // socket of the current (or last) connection
    var writer = null;
    var connected = false;
    var generation = 0;         // bumps on every connect/disconnect, so stale threads step aside
    var failures = 0;
    var reconnectTimer = null;
    var queue = [];             // [{ packet, queuedAt }]
    var currentRooms = {};      // channelId -> { room, lastActivity }
    var stopped = false;

    function log(s) { try { Log.i("[bridge] " + s); } catch (e) {} }
    function logError(s) { try { Log.e("[bridge] " + s); } catch (e) {} }

    // ---- device facts -----------------------------------------------------

    function androidId() {
        try {
            var id = android.provider.Settings.Secure.getString(
                android.app.ActivityThread.currentApplication().getContentResolver(),
                android.provider.Settings.Secure.ANDROID_ID);
            return id ? String(id) : "unknown";
        } catch (e) {
            return "unknown";
        }
    }

    function deviceUUID() {
        try {
            var id = Device.getAndroidId();
            return id ? String(id) : "unknown";
        } catch (e) {
            return "unknown";
        }
    }

    function macAddress() {
        try {
            var wifi = Api.getContext().getSystemService(android.content.Context.WIFI_SERVICE);
            var mac = wifi.getConnectionInfo().getMacAddress();
            return mac ? String(mac) : "unknown";
        } catch (e) {
            return "unknown";
        }
    }

    // Local address of the current socket; a closed socket reports 0.0.0.0.
    function localIp() {
        try {
            if (socket !== null && socket.isConnected()) {
                return String(socket.getLocalAddress().getHostAddress());
            }
        } catch (e) {}
        return "unknown";
    }

    function deviceInfo() {
        try {
            var b = android.os.Build;
            return b.BRAND + " " + b.MODEL + " (Android " + b.VERSION.RELEASE + ", API " + b.VERSION.SDK_INT + ")";
        } catch (e) {
            return "unknown";
        }
    }

    // ---- auth -------------------------------------------------------------

    function hmacHex(key, message) {
        var mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(new java.lang.String(key).getBytes("UTF-8"), "HmacSHA256"));
        var raw = mac.doFinal(new java.lang.String(message).getBytes("UTF-8"));
        var hex = "";
        for (var i = 0; i < raw.length; i++) {
            var h = (raw[i] & 0xff).toString(16);
            hex += h.length < 2 ? "0" + h : h;
        }
        return hex;
    }

    function buildAuth() {
        var a = {
            clientType: CLIENT_TYPE,
            botName: BOT_NAME,
            deviceUUID: deviceUUID(),
            deviceID: androidId(),
            macAddress: macAddress(),
            ipAddress: localIp(),
            timestamp: Date.now(),
            version: BRIDGE_VERSION
        };
        var signed = [a.clientType, a.botName, a.deviceUUID, a.macAddress, a.ipAddress, String(a.timestamp), SALT].join("|");
        try {
            a.signature = hmacHex(SECRET_KEY, signed);
        } catch (e) {
            logError("HMAC failed: " + e);
            a.signature = "";
        }
        return a;
    }

    // ---- text helpers -----------------------------------------------------

    function clean(text) {
        if (text === null || text === undefined) return "";
        var s = String(text);
        if (s.length > MAX_TEXT_CHARS) s = s.substring(0, MAX_TEXT_CHARS);
        // control characters go, except \n and \r
        return s.replace(/[\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F]/g, "");
    }

    function pad2(n) { return n < 10 ? "0" + n : String(n); }

    function localTime(d) {
        return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
            pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
    }

    function randomHash() {
        return Math.floor(Math.random() * 0xffffffff).toString(16) + Date.now().toString(16).slice(-4);
    }

    function idString(v) {
        if (v === null || v === undefined) return null;
        var s = String(v);
        return s.length > 0 && s !== "null" && s !== "0" ? s : null;
    }

    // ---- outbound ---------------------------------------------------------

    function writeLine(packet) {
        var w = writer;
        if (!connected || w === null) return false;
        try {
            w.write(JSON.stringify(packet) + "\n");
            w.flush();
            return true;
        } catch (e) {
            logError("write failed: " + e);
            dropConnection(generation, "write failed");
            return false;
        }
    }

    function trimQueue() {
        var now = Date.now();
        var kept = [];
        for (var i = 0; i < queue.length; i++) {
            if (now - queue[i].queuedAt <= QUEUE_TTL_MS) kept.push(queue[i]);
        }
        if (kept.length > QUEUE_MAX) kept = kept.slice(kept.length - QUEUE_MAX);
        queue = kept;
    }

    // The auth block is built NOW, when the event is created/queued, not when it is written.
    function emit(event, data) {
        data.auth = buildAuth();
        var packet = { event: event, data: data };
        if (!writeLine(packet)) {
            queue.push({ packet: packet, queuedAt: Date.now() });
            if (queue.length > QUEUE_MAX) trimQueue();
        }
    }

    function flushQueue() {
        trimQueue();
        var sent = 0;
        while (queue.length > 0 && sent < FLUSH_MAX && connected) {
            var item = queue.shift();
            if (Date.now() - item.queuedAt > QUEUE_TTL_MS) continue;
            if (!writeLine(item.packet)) {
                queue.unshift(item);
                break;
            }
            sent++;
        }
        if (sent > 0) log("flushed " + sent + " queued event(s), " + queue.length + " left");
    }

    function noteRoom(channelId, room) {
        if (channelId === null) return;
        var now = Date.now();
        currentRooms[channelId] = { room: room, lastActivity: now };
        for (var id in currentRooms) {
            if (now - currentRooms[id].lastActivity > ROOM_IDLE_MS) delete currentRooms[id];
        }
    }

    function activeRooms() {
        var n = 0;
        for (var id in currentRooms) n++;
        return n;
    }

    function sendAnalyze(d) {
        var text = clean(d.text);
        if (text.length === 0) return;
        noteRoom(d.channelId, d.room);
        var data = {
            room: String(d.room),
            text: text,
            sender: clean(d.sender),
            isGroupChat: !!d.isGroupChat,
            channelId: d.channelId,
            logId: d.logId,
            userHash: d.userHash,
            isMention: !!d.isMention,
            timestamp: localTime(new Date()),
            botName: BOT_NAME,
            clientType: CLIENT_TYPE
        };
        if (d.legacy) {
            data.packageName = d.packageName;
            data.threadId = d.threadId;
        }
        emit("analyze", data);
    }

    // ---- inbound ----------------------------------------------------------

    function monitoring() {
        var rt = java.lang.Runtime.getRuntime();
        var mb = 1024 * 1024;
        var max = rt.maxMemory() / mb;
        var used = (rt.totalMemory() - rt.freeMemory()) / mb;
        return {
            total_memory: Math.round(max * 10) / 10,
            memory_usage: Math.round(used * 10) / 10,
            memory_percent: max > 0 ? Math.round(used / max * 1000) / 10 : 0,
            message_queue_size: queue.length,
            active_rooms: activeRooms()
        };
    }

    function shareMedia(data) {
        var text = String(data.text);
        var body = text.indexOf("MEDIA_URL:") === 0 ? text.substring("MEDIA_URL:".length) : text.substring("IMAGE_BASE64:".length);
        var items = body.split("|||");
        var channelId = data.channel_id ? String(data.channel_id) : null;
        if (channelId === null) {
            for (var id in currentRooms) if (currentRooms[id].room === data.room) channelId = id;
        }
        if (channelId === null) { logError("media without a channel id for room " + data.room); return; }
        var wait = typeof data.media_wait_time === "number" ? data.media_wait_time : MEDIA_WAIT_MS;
        try {
            var Intent = android.content.Intent;
            var intent = new Intent(items.length > 1 ? Intent.ACTION_SEND_MULTIPLE : Intent.ACTION_SEND);
            intent.setPackage("com.kakao.talk");
            intent.putExtra("channel_id", channelId);
            intent.putExtra("items", items.join("\n"));
            intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK);
            Api.getContext().startActivity(intent);
            java.lang.Thread.sleep(wait);
        } catch (e) {
            logError("media share failed: " + e);
        }
    }

    function onLine(gen, line) {
        var packet;
        try {
            packet = JSON.parse(String(line));
        } catch (e) {
            logError("unparseable line from server");
            return;
        }
        if (!packet || typeof packet !== "object") return;
        var event = packet.event;
        var data = packet.data || {};
        if (event === "handshakeComplete") {
            log("handshakeComplete: " + JSON.stringify(data));
            if (data.success === false) dropConnection(gen, "handshake refused");
        } else if (event === "ping") {
            var reply = { bot_name: data.bot_name, server_timestamp: data.server_timestamp };
            if (MONITORING_ENABLED) {
                try { reply.monitoring = monitoring(); } catch (e) { logError("monitoring failed: " + e); }
            }
            emit("ping", reply);
        } else if (event === "messageResponse") {
            if (typeof data.text !== "string" || typeof data.room !== "string") return;
            if (data.text.indexOf("MEDIA_URL:") === 0 || data.text.indexOf("IMAGE_BASE64:") === 0) {
                shareMedia(data);
            } else {
                bot.send(data.room, data.text);
            }
        } else if (event === "error") {
            log("server error: " + JSON.stringify(data));
        }
        // anything else is ignored
    }

    function startReader(gen, s) {
        var t = new java.lang.Thread(new java.lang.Runnable({
            run: function () {
                var why = "server closed the connection";
                try {
                    var reader = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), "UTF-8"));
                    while (gen === generation) {
                        var line = reader.readLine();
                        if (line === null) break;
                        onLine(gen, line);
                    }
                } catch (e) {
                    why = "read failed: " + e;
                }
                dropConnection(gen, why);
            }
        }), "bridge-reader");
        t.setDaemon(true);
        t.start();
    }

    // ---- connection -------------------------------------------------------

    function dropConnection(gen, why) {
        if (gen !== generation || !connected) return;
        generation++;
        connected = false;
        log("disconnected: " + why);
        try { if (writer !== null) writer.close(); } catch (e) {}
        try { if (socket !== null) socket.close(); } catch (e) {}
        writer = null;
        scheduleReconnect();
    }

    function scheduleReconnect() {
        if (stopped || reconnectTimer !== null) return;
        failures++;
        var delay = Math.min(RECONNECT_BASE_MS * Math.pow(2, Math.min(failures, 6)), RECONNECT_MAX_MS);
        log("reconnect in " + delay + " ms (failure " + failures + ")");
        reconnectTimer = setTimeout(function () {
            reconnectTimer = null;
            connectAny();
        }, delay);
    }

    function sortedServers() {
        var list = SERVERS.slice(0);
        list.sort(function (a, b) { return a.priority - b.priority; });
        return list;
    }

    function tryServer(srv) {
        var s = new java.net.Socket();
        try {
            s.connect(new java.net.InetSocketAddress(srv.host, srv.port), CONNECT_TIMEOUT_MS);
            s.setSoTimeout(0);
            var w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(s.getOutputStream(), "UTF-8"));
            socket = s;
            var hello = {
                clientType: CLIENT_TYPE,
                botName: BOT_NAME,
                version: BRIDGE_VERSION,
                deviceID: androidId(),
                deviceIP: localIp(),
                deviceInfo: deviceInfo()
            };
            w.write(JSON.stringify(hello) + "\n");
            w.flush();
            // connected as soon as the handshake is written: no waiting for the answer
            generation++;
            writer = w;
            connected = true;
            failures = 0;
            log("connected to " + srv.name + " (" + srv.host + ":" + srv.port + ")");
            startReader(generation, s);
            return true;
        } catch (e) {
            log("connect to " + srv.name + " failed: " + e);
            try { s.close(); } catch (e2) {}
            return false;
        }
    }

    function connectAny() {
        if (stopped || connected) return;
        var list = sortedServers();
        for (var i = 0; i < list.length; i++) {
            if (tryServer(list[i])) {
                flushQueue();
                return;
            }
        }
        scheduleReconnect();
    }

    function start() {
        log("bridge v" + BRIDGE_VERSION + " for " + BOT_NAME + ", " + SERVERS.length + " server(s)");
        setTimeout(connectAny, 0);
    }

    function stop() {
        stopped = true;
        if (reconnectTimer !== null) { clearTimeout(reconnectTimer); reconnectTimer = null; }
        generation++;
        connected = false;
        try { if (socket !== null) socket.close(); } catch (e) {}
    }

    return { start: start, stop: stop, sendAnalyze: sendAnalyze, randomHash: randomHash, idString: idString };
})();

// ---- MessengerBot R entry points ------------------------------------------

// API2: bot.addListener(Event.MESSAGE, onMessage)
function onMessage(msg) {
    try {
        var author = msg.author || {};
        Bridge.sendAnalyze({
            room: msg.room,
            text: msg.content,
            sender: author.name,
            isGroupChat: msg.isGroupChat,
            channelId: Bridge.idString(msg.channelId),
            logId: Bridge.idString(msg.logId),
            userHash: author.hash ? String(author.hash) : null,
            isMention: msg.isMention
        });
    } catch (e) {
        Log.e("[bridge] onMessage failed: " + e);
    }
}

// Legacy API
function response(room, msg, sender, isGroupChat, replier, imageDB, packageName, threadId) {
    try {
        var channelId = null;
        try { if (imageDB) channelId = Bridge.idString(imageDB.getLastUid()); } catch (e) {}
        Bridge.sendAnalyze({
            legacy: true,
            room: room,
            text: msg,
            sender: sender,
            isGroupChat: isGroupChat,
            channelId: channelId,
            logId: null,
            userHash: Bridge.randomHash(),
            isMention: false,
            packageName: packageName === undefined || packageName === null ? null : String(packageName),
            threadId: threadId === undefined || threadId === null ? null : String(threadId)
        });
    } catch (e) {
        Log.e("[bridge] response failed: " + e);
    }
}

bot.addListener(Event.MESSAGE, onMessage);
bot.addListener(Event.START_COMPILE, function () { Bridge.stop(); });
Bridge.start();
