// The real `openai` npm package (from the asset cache, sha256-pinned in scripts/assets.lock) as a
// client of a running `lumen serve`: models list, a non-streaming and a streaming chat completion,
// and Perplexity's `citations` / `search_results` additions arriving through the client.
// Usage: LUMEN_OPENAI=<package dir> node openai_client.js BASE_URL   (prints "openai client: ok")
'use strict';
const assert = require('assert');
const openai = require(process.env.LUMEN_OPENAI);
const OpenAI = openai.OpenAI || openai.default || openai;

async function main() {
  const base = process.argv[2].replace(/\/$/, '');
  const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'not-needed-locally', maxRetries: 0,
                              timeout: 60000 });

  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert(models.length >= 1, 'at least one model');
  const model = models[0].id;
  assert.strictEqual(typeof model, 'string');

  const question = 'How do I read a CSV file?';
  const completion = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: question }],
  });
  assert.strictEqual(completion.object, 'chat.completion');
  const text = completion.choices[0].message.content;
  assert(typeof text === 'string' && text.length > 20, 'an answer: ' + text);
  assert(/\[\d+\]/.test(text), 'the answer cites sources with [n]: ' + text);
  assert(Array.isArray(completion.citations) && completion.citations.length > 0, 'citations');
  for (const url of completion.citations) assert(/^https?:\/\//.test(url), 'citation URL ' + url);
  assert(Array.isArray(completion.search_results) && completion.search_results.length > 0);
  for (const r of completion.search_results) {
    for (const key of ['title', 'url', 'snippet']) {
      assert.strictEqual(typeof r[key], 'string', 'search_results[].' + key);
    }
    assert('date' in r, 'search_results[].date present (null when unknown)');
  }
  assert.deepStrictEqual(completion.search_results.map((r) => r.url), completion.citations);
  assert(!JSON.stringify(completion).includes('Sponsored'), 'no ads in API answers');

  const stream = await client.chat.completions.create({
    model, stream: true, messages: [{ role: 'user', content: question }],
  });
  let streamed = '';
  let chunks = 0;
  let citations = null;
  let searchResults = null;
  let finish = null;
  for await (const chunk of stream) {
    ++chunks;
    assert.strictEqual(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    if (choice && choice.delta && choice.delta.content) streamed += choice.delta.content;
    if (choice && choice.finish_reason) finish = choice.finish_reason;
    if (chunk.citations) citations = chunk.citations;
    if (chunk.search_results) searchResults = chunk.search_results;
  }
  assert(chunks >= 3, 'several chunks, got ' + chunks);
  assert.strictEqual(finish, 'stop');
  assert.strictEqual(streamed, text, 'the stream spells the same answer');
  assert.deepStrictEqual(citations, completion.citations, 'citations arrive in the stream');
  assert(Array.isArray(searchResults) && searchResults.length === completion.search_results.length);

  // A malformed request surfaces as the client's typed error with the HTTP status.
  let status = 0;
  try {
    await client.chat.completions.create({ model, messages: [] });
  } catch (e) {
    status = e.status;
  }
  assert.strictEqual(status, 400, 'empty messages -> 400');
  console.log('openai client: ok (' + models.length + ' model(s), ' + chunks + ' chunks, ' +
              completion.citations.length + ' citations)');
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
