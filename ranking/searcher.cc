#include "ranking/searcher.h"

#include <filesystem>

#include "retrieval/indexer.h"

namespace lumen::ranking {

Result<std::unique_ptr<Searcher>> Searcher::Open(const Config& config) {
  const std::string data_dir = Config::ExpandHome(config.GetString("data_dir"));
  if (!std::filesystem::exists(std::filesystem::path(data_dir) / "lumen.db"))
    return NotFound("no store in " + data_dir + " yet (crawl pages with `lumen crawl` first)");
  auto s = std::make_unique<Searcher>();
  LUMEN_ASSIGN_OR_RETURN(s->store,
                         retrieval::Store::Open(data_dir, StoreOptionsFromConfig(config)));
  Result<std::unique_ptr<retrieval::Embedder>> embedder = retrieval::CreateEmbedder(config);
  if (!embedder.ok()) {
    if (embedder.status().code() != StatusCode::kNotFound) return embedder.status();
    s->warning = "lexical search only: " + embedder.status().message();
  } else {
    Result<std::unique_ptr<retrieval::VectorIndex>> index =
        retrieval::OpenVectorIndex(**embedder, data_dir);
    if (index.ok()) {
      (*index)->SetSearchParameters(static_cast<int>(config.GetInt("index.ef_search")),
                                    static_cast<int>(config.GetInt("index.nprobe")));
      LUMEN_RETURN_IF_ERROR((*index)->UseDevice(config.GetString("index.device")));
      s->embedder = std::move(*embedder);
      s->index = std::move(*index);
    } else if (index.status().code() == StatusCode::kNotFound) {
      // No index yet, or its embedding statistics are gone: the message names which.
      s->warning = "lexical search only: " + index.status().message();
    } else {
      return index.status();
    }
  }
  HybridOptions options = HybridOptionsFromConfig(config);
  LUMEN_RETURN_IF_ERROR(ValidateHybridOptions(options));
  if (options.lexical == "memory") {
    LUMEN_ASSIGN_OR_RETURN(s->lexical,
                           retrieval::LexicalIndex::Build(
                               *s->store, LexicalOptions(StoreOptionsFromConfig(config), options)));
  }
  s->retriever = std::make_unique<HybridRetriever>(*s->store, s->embedder.get(), s->index.get(),
                                                   options, s->lexical.get());
  return s;
}

Status Searcher::IndexStoredPage(const retrieval::UpsertResult& page) {
  if (!embedder || !index || page.unchanged) return Status::Ok();
  if (!page.removed_passage_ids.empty()) {
    LUMEN_RETURN_IF_ERROR(index->Remove(page.removed_passage_ids));
  }
  if (page.added_passage_ids.empty()) return Status::Ok();
  LUMEN_ASSIGN_OR_RETURN(std::vector<retrieval::PassageView> views,
                         store->GetPassages(page.added_passage_ids));
  std::vector<std::string> texts;
  std::vector<std::int64_t> ids;
  for (const retrieval::PassageView& v : views) {
    texts.push_back(retrieval::EmbeddingText(v));
    ids.push_back(v.id);
  }
  const std::vector<std::string_view> refs(texts.begin(), texts.end());
  std::vector<float> vectors;
  LUMEN_RETURN_IF_ERROR(embedder->Embed(refs, retrieval::EmbedRole::kPassage, vectors));
  return index->Add(ids, vectors);
}

}  // namespace lumen::ranking
