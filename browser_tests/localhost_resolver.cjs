// Preloaded into Frappe's socket.io server by run.sh: resolve *.localhost to loopback as browsers do
// (RFC 6761), so the server can call back the site it authenticates against without /etc/hosts.
const dns = require("node:dns");

const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
	if (typeof options === "function") {
		callback = options;
		options = {};
	}
	if (typeof hostname === "string" && /(^|\.)localhost$/i.test(hostname)) {
		const wantsAll = options && typeof options === "object" && options.all;
		const address = { address: "127.0.0.1", family: 4 };
		return process.nextTick(() => (wantsAll ? callback(null, [address]) : callback(null, address.address, 4)));
	}
	return lookup.call(this, hostname, options, callback);
};
