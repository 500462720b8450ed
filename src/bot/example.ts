import type { BotHandler } from "./types.ts";

/**
 * The built-in example bot, used when a bot has no handler or webhook, so a
 * newcomer sees replies at once: !ping, !echo <text>, !time, !help.
 */
const exampleBot: BotHandler = (msg) => {
  const text = msg.text.trim();
  if (text === "!ping") return "pong!";
  if (text === "!echo" || text.startsWith("!echo ")) {
    const rest = text.slice(6).trim();
    return rest.length > 0 ? rest : "사용법: !echo <텍스트>";
  }
  if (text === "!time") return `서버 시각: ${new Date().toISOString()}`;
  if (text === "!help") return ["botgate 예제 봇 명령어:", "!ping, !echo <텍스트>, !time"];
  return undefined;
};

export default exampleBot;
