// The parts of node-llama-cpp the runtime uses, named one by one (its model downloader is not
// among them: downloads go through egress/). Loaded lazily by `await import('./llama.js')`, so a
// command that runs no model never loads the native runtime.
import { GeneralChatWrapper, GgufFileType, GgufInsights, getLlama, LlamaChat, LlamaLogLevel, readGgufFileInfo, resolveChatWrapper } from 'node-llama-cpp';

export { GeneralChatWrapper, GgufFileType, GgufInsights, getLlama, LlamaChat, LlamaLogLevel, readGgufFileInfo, resolveChatWrapper };
