/**
 * MessengerBot R stand-ins, so the phone bridge script runs unmodified under
 * plain Rhino (Debian `rhino`, 1.7.14 on Java 17).
 *
 *   rhino -encoding UTF-8 stand-ins.js --host H --port P --bot NAME --secret S --salt T \
 *         --device-id ID [--bridge path/to/bridge.js] [--servers JSON]
 *
 * It provides what the app provides (BotManager/bot, Event, Log, Api/App,
 * Device, android.* bits, imageDB, replier, setTimeout & co.), loads the bridge
 * with only its CONFIG section replaced (as an operator edits it in the app),
 * then plays KakaoTalk: each stdin line is one incoming chat message.
 *
 * stdin  (fields are tab-separated; \n \r \t \\ \uXXXX escapes allowed inside fields):
 *   CHAT\t<room>\t<sender>\t<text>[\t<channelId>[\t<logId>]]   -> API2 listeners (onMessage)
 *   LEGACY\t<room>\t<sender>\t<text>[\t<channelId>]           -> legacy response()
 *   QUIT
 * stdout (same escaping):
 *   READY                         bridge loaded
 *   SENT\t<room>\t<text>          bot.send(room, text) / replier.reply(text)
 *   MEDIA\t<channelId>\t<items>   a media share intent was started
 * stderr: the app's log (Log.i/d/w/e).
 */

var StandIn = (function (args) {
    var opts = {
        host: "127.0.0.1", port: "37888", bot: "LOA.i", secret: "", salt: "",
        "device-id": "ccbd8eee1012327e", bridge: null, servers: null,
        mac: "02:00:00:00:00:00"
    };
    for (var i = 0; i < args.length; i++) {
        var a = String(args[i]);
        if (a.indexOf("--") !== 0 || i + 1 >= args.length) throw new Error("bad argument: " + a);
        var key = a.substring(2);
        if (!(key in opts)) throw new Error("unknown option: " + a);
        opts[key] = String(args[++i]);
    }
    if (opts.bridge === null) throw new Error("--bridge is required");

    var utf8 = "UTF-8";
    var out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, utf8);
    var err = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, utf8);

    function esc(v) {
        return String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
    }

    function unesc(s) {
        return String(s).replace(/\\(u[0-9a-fA-F]{4}|n|r|t|\\)/g, function (m, c) {
            if (c === "n") return "\n";
            if (c === "r") return "\r";
            if (c === "t") return "\t";
            if (c === "\\") return "\\";
            return String.fromCharCode(parseInt(c.substring(1), 16));
        });
    }

    return { opts: opts, out: out, err: err, esc: esc, unesc: unesc, sent: new java.util.concurrent.CopyOnWriteArrayList() };
})(arguments);

// ---- Log ----------------------------------------------------------------------
var Log = (function () {
    function w(level) {
        return function (m) { StandIn.err.println("LOG\t" + level + "\t" + StandIn.esc(m)); };
    }
    return { i: w("I"), d: w("D"), w: w("W"), e: w("E"), info: w("I"), debug: w("D"), warn: w("W"), error: w("E") };
})();

// ---- timers (the app runs them on its own threads) ----------------------------
var setTimeout, setInterval, clearTimeout, clearInterval;
(function () {
    var exec = new java.util.concurrent.ScheduledThreadPoolExecutor(2, new java.util.concurrent.ThreadFactory({
        newThread: function (r) {
            var t = new java.lang.Thread(r, "msgbot-timer");
            t.setDaemon(true);
            return t;
        }
    }));
    var ms = java.util.concurrent.TimeUnit.MILLISECONDS;
    function task(fn, extra) {
        return new java.lang.Runnable({
            run: function () {
                try { fn.apply(null, extra); } catch (e) { Log.e("timer callback failed: " + e); }
            }
        });
    }
    setTimeout = function (fn, delay) {
        return exec.schedule(task(fn, Array.prototype.slice.call(arguments, 2)), Math.max(0, delay || 0), ms);
    };
    setInterval = function (fn, period) {
        var p = Math.max(1, period || 1);
        return exec.scheduleAtFixedRate(task(fn, Array.prototype.slice.call(arguments, 2)), p, p, ms);
    };
    clearTimeout = clearInterval = function (h) { if (h && h.cancel) h.cancel(false); };
})();

// ---- device / android ---------------------------------------------------------
var Device = {
    getAndroidId: function () { return new java.lang.String(StandIn.opts["device-id"]); },
    getPhoneBrand: function () { return "samsung"; },
    getPhoneModel: function () { return "SM-G991N"; }
};

var android = (function () {
    function Intent(action) {
        this.action = action;
        this.pkg = null;
        this.extras = {};
    }
    Intent.ACTION_SEND = "android.intent.action.SEND";
    Intent.ACTION_SEND_MULTIPLE = "android.intent.action.SEND_MULTIPLE";
    Intent.FLAG_ACTIVITY_NEW_TASK = 0x10000000;
    Intent.prototype.setPackage = function (p) { this.pkg = p; return this; };
    Intent.prototype.putExtra = function (k, v) { this.extras[k] = v; return this; };
    Intent.prototype.addFlags = function () { return this; };
    return {
        provider: { Settings: { Secure: {
            ANDROID_ID: "android_id",
            getString: function (resolver, name) {
                return name === "android_id" ? new java.lang.String(StandIn.opts["device-id"]) : null;
            }
        } } },
        app: { ActivityThread: { currentApplication: function () { return { getContentResolver: function () { return {}; } }; } } },
        os: { Build: { BRAND: "samsung", MODEL: "SM-G991N", VERSION: { RELEASE: "13", SDK_INT: 33 } } },
        content: { Context: { WIFI_SERVICE: "wifi" }, Intent: Intent }
    };
})();

var Api = (function () {
    var wifi = { getConnectionInfo: function () { return { getMacAddress: function () { return new java.lang.String(StandIn.opts.mac); } }; } };
    var context = {
        getSystemService: function (name) { return name === "wifi" ? wifi : null; },
        getPackageName: function () { return "com.xfl.msgbot"; },
        startActivity: function (intent) {
            StandIn.out.println("MEDIA\t" + StandIn.esc(intent.extras.channel_id) + "\t" + StandIn.esc(intent.extras.items));
        }
    };
    return { getContext: function () { return context; } };
})();
var App = Api;

// ---- bot ------------------------------------------------------------------------
var Event = { MESSAGE: "message", COMMAND: "command", START_COMPILE: "startCompile", NOTIFICATION_POSTED: "notificationPosted" };

var BotManager = (function () {
    var listeners = {};
    var theBot = {
        getName: function () { return StandIn.opts.bot; },
        addListener: function (ev, fn) { (listeners[ev] = listeners[ev] || []).push(fn); },
        removeAllListeners: function (ev) { if (ev) delete listeners[ev]; else listeners = {}; },
        send: function (room, text) {
            StandIn.sent.add(String(room) + "\t" + String(text));
            StandIn.out.println("SENT\t" + StandIn.esc(room) + "\t" + StandIn.esc(text));
            return true;
        },
        emit: function (ev, arg) {
            var l = listeners[ev] || [];
            for (var i = 0; i < l.length; i++) l[i](arg);
        }
    };
    return { getCurrentBot: function () { return theBot; }, getBot: function () { return theBot; } };
})();

// ---- load the bridge with only its CONFIG section replaced ------------------------
(function loadBridge() {
    var o = StandIn.opts;
    var path = o.bridge;
    var src = String(new java.lang.String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path)), "UTF-8"));
    var begin = "// ===== CONFIG (the only section an operator edits) =====";
    var end = "// ===== END CONFIG =====";
    var b = src.indexOf(begin), e = src.indexOf(end);
    if (b < 0 || e < b || src.indexOf(begin, b + 1) >= 0) throw new Error(path + ": CONFIG section markers not found exactly once");
    var servers = o.servers !== null ? JSON.parse(o.servers) : [{ host: o.host, port: parseInt(o.port, 10), priority: 1, name: "botgate" }];
    var cfg = [
        begin,
        "var BOT_NAME = " + JSON.stringify(o.bot) + ";",
        "var SECRET_KEY = " + JSON.stringify(o.secret) + ";",
        "var SALT = " + JSON.stringify(o.salt) + ";",
        "var SERVERS = " + JSON.stringify(servers) + ";",
        ""
    ].join("\n");
    var edited = src.substring(0, b) + cfg + src.substring(e);
    var cx = org.mozilla.javascript.Context.getCurrentContext();
    cx.evaluateString(this, edited, path, 1, null);
})();

// ---- KakaoTalk: incoming chat from stdin -------------------------------------------
(function drive() {
    var bot = BotManager.getCurrentBot();
    var nextLogId = java.math.BigInteger.valueOf(3049581203948);
    var lastUid = null;
    var imageDB = {
        getLastUid: function () { return lastUid; },
        getProfileBase64: function () { return ""; },
        getImageBase64: function () { return null; }
    };
    StandIn.out.println("READY");
    var stdin = new java.io.BufferedReader(new java.io.InputStreamReader(java.lang.System["in"], "UTF-8"));
    var line;
    while ((line = stdin.readLine()) !== null) {
        var f = String(line).split("\t");
        for (var i = 1; i < f.length; i++) f[i] = StandIn.unesc(f[i]);
        try {
            if (f[0] === "CHAT" && f.length >= 4) {
                nextLogId = nextLogId.add(java.math.BigInteger.ONE);
                var room = f[1];
                bot.emit(Event.MESSAGE, {
                    room: room,
                    content: f[3],
                    author: { name: f[2], hash: "h" + Math.abs(f[2].split("").reduce(function (h, c) { return (h * 31 + c.charCodeAt(0)) | 0; }, 7)).toString(16), avatar: null },
                    isGroupChat: true,
                    isDebugRoom: false,
                    isMention: false,
                    packageName: "com.kakao.talk",
                    channelId: f.length > 4 && f[4] !== "" ? new java.math.BigInteger(f[4]) : java.math.BigInteger.valueOf(18294870190341),
                    logId: f.length > 5 && f[5] !== "" ? new java.math.BigInteger(f[5]) : nextLogId,
                    reply: function (t) { bot.send(room, t); },
                    markAsRead: function () { return true; }
                });
            } else if (f[0] === "LEGACY" && f.length >= 4) {
                var lroom = f[1];
                lastUid = f.length > 4 && f[4] !== "" ? java.lang.Long.valueOf(f[4]) : null;
                var replier = { reply: function (a, b) { if (b === undefined) bot.send(lroom, a); else bot.send(a, b); return true; } };
                response(lroom, f[3], f[2], true, replier, imageDB, "com.kakao.talk", null);
            } else if (f[0] === "QUIT") {
                break;
            } else if (f[0] !== "") {
                Log.w("stand-in: unknown stdin command " + f[0]);
            }
        } catch (e) {
            Log.e("stand-in: " + f[0] + " failed: " + e);
        }
    }
    java.lang.System.exit(0);
})();
