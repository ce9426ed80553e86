// A hostile little web site on 127.0.0.1 (cpp-httplib, a free port), for the fetcher and
// crawler tests and the crawl benchmark. Every route is a case a crawler meets in the wild:
//
//   /ok, /page/<n> (links to /page/<n+1>..., a site to crawl), /latin1, /sjis-meta,
//   /wrong-charset, /malformed, /binary, /image, /gzip, /huge, /huge-chunked,
//   /redirect/<n> (n hops then /ok), /loop-a <-> /loop-b, /trickle, /hang, /status/<code>,
//   /retry-after (429, Retry-After: 7), /to-blocked (redirect to 10.0.0.1), /robots.txt
//   (settable), /dup-a and /dup-b (the same article).
//
// The slow routes stop when the server stops, so tests never wait on them. Thread-safe.
#pragma once

#include <httplib.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace lumen::test_support {

inline std::string GzipCompress(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string ArticleHtml(const std::string& title, const std::string& extra_body = "") {
  std::string html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     title + "</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>" +
                     title + "</h1>";
  for (int i = 0; i < 4; ++i) {
    html += "<p>Paragraph " + std::to_string(i) + " of " + title +
            ": the quick brown fox jumps over the lazy dog, and then it runs far away across "
            "the green fields, past the river and into the dark forest where nobody follows.</p>";
  }
  html += extra_body + "</article><footer>Copyright footer text</footer></body></html>";
  return html;
}

class FixtureServer {
 public:
  FixtureServer() {
    using httplib::Request;
    using httplib::Response;
    server_.Get("/ok", [](const Request&, Response& res) {
      res.set_content(ArticleHtml("Fixture OK page"), "text/html; charset=utf-8");
    });
    server_.Get(R"(/page/(\d+))", [this](const Request& req, Response& res) {
      const int n = std::stoi(req.matches[1]);
      std::string links;
      for (int k = 1; k <= fanout_; ++k) {
        links += "<a href=\"/page/" + std::to_string(n * fanout_ + k) + "\">next " +
                 std::to_string(k) + "</a> ";
      }
      res.set_content(ArticleHtml("Page number " + std::to_string(n), "<p>" + links + "</p>"),
                      "text/html");
    });
    server_.Get("/latin1", [](const Request&, Response& res) {
      res.set_content(ArticleHtml("Caf\xE9 cr\xE8me"), "text/html; charset=ISO-8859-1");
    });
    server_.Get("/sjis-meta", [](const Request&, Response& res) {
      // "日本" in Shift_JIS, declared only in a meta tag.
      res.set_content(
          "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">"
          "</head><body><p>\x93\xFA\x96\x7B</p></body></html>",
          "text/html");
    });
    server_.Get("/wrong-charset", [](const Request&, Response& res) {
      res.set_content(ArticleHtml("Bad \xE9\xFF bytes"), "text/html; charset=utf-8");
    });
    server_.Get("/malformed", [](const Request&, Response& res) {
      res.set_content(
          "<html><body><div><p>Unclosed <b>bold <i>italic</div></span><p>Second "
          "paragraph of a broken page with enough words to count as content<table>"
          "<tr><td>cell",
          "text/html");
    });
    server_.Get("/binary", [](const Request&, Response& res) {
      std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
      png += std::string(4000, '\0');
      res.set_content(png, "text/html");
    });
    server_.Get("/image", [](const Request&, Response& res) {
      res.set_content(std::string(100, 'x'), "image/png");
    });
    server_.Get("/gzip", [](const Request&, Response& res) {
      res.set_content(GzipCompress(ArticleHtml("Compressed page")), "text/html; charset=utf-8");
      res.set_header("Content-Encoding", "gzip");
    });
    server_.Get("/huge", [](const Request&, Response& res) {
      res.set_content(std::string(3 << 20, 'a'), "application/xhtml+xml");
      res.set_header("Content-Encoding", "identity");
    });
    server_.Get("/huge-chunked", [this](const Request&, Response& res) {
      // No Content-Length; a type httplib does not compress, so bytes flow as written.
      res.set_chunked_content_provider("application/xhtml+xml",
                                       [this](size_t, httplib::DataSink& sink) {
                                         const std::string chunk(64 << 10, 'b');
                                         for (int i = 0; i < 64 && !stopping_; ++i) {
                                           if (!sink.write(chunk.data(), chunk.size())) {
                                             return false;
                                           }
                                         }
                                         sink.done();
                                         return true;
                                       });
    });
    server_.Get(R"(/redirect/(\d+))", [](const Request& req, Response& res) {
      const int n = std::stoi(req.matches[1]);
      res.set_redirect(n <= 1 ? "/ok" : "/redirect/" + std::to_string(n - 1));
    });
    server_.Get("/loop-a", [](const Request&, Response& res) { res.set_redirect("/loop-b"); });
    server_.Get("/loop-b", [](const Request&, Response& res) { res.set_redirect("/loop-a"); });
    server_.Get("/to-blocked",
                [](const Request&, Response& res) { res.set_redirect("http://10.0.0.1/secret"); });
    server_.Get("/to-ftp",
                [](const Request&, Response& res) { res.set_redirect("ftp://127.0.0.1/file"); });
    server_.Get("/trickle", [this](const Request&, Response& res) {
      // A declared length (so httplib does not buffer it through a compressor), three bytes
      // every 40 ms.
      res.set_content_provider(1 << 20, "text/html",
                               [this](size_t, size_t, httplib::DataSink& sink) {
                                 if (stopping_) return false;
                                 std::this_thread::sleep_for(std::chrono::milliseconds(40));
                                 return sink.write("<p>", 3);
                               });
    });
    server_.Get("/hang", [this](const Request&, Response& res) {
      res.set_chunked_content_provider("text/html", [this](size_t, httplib::DataSink&) {
        for (int i = 0; i < 500 && !stopping_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
      });
    });
    server_.Get(R"(/status/(\d+))", [](const Request& req, Response& res) {
      res.status = std::stoi(req.matches[1]);
      res.set_content("<p>error page</p>", "text/html");
    });
    server_.Get("/retry-after", [](const Request&, Response& res) {
      res.status = 429;
      res.set_header("Retry-After", "7");
      res.set_content("slow down", "text/plain");
    });
    server_.Get("/dup-a", [](const Request&, Response& res) {
      res.set_content(ArticleHtml("Same article twice"), "text/html");
    });
    server_.Get("/dup-b", [](const Request&, Response& res) {
      res.set_content(ArticleHtml("Same article twice"), "text/html");
    });
    server_.Get("/robots.txt", [this](const Request&, Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (robots_status_ != 200) res.status = robots_status_;
      // Served as octet-stream: httplib would compress text, slowly for big files.
      res.set_content(robots_, "application/octet-stream");
    });
    // Keep-alive connections each hold a worker: give the fetcher room for all of its own.
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    // One request per connection: httplib's keep-alive wait can leave a reused connection
    // unanswered for a while, which would read as a stall.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op before the accept loop runs: wait for it.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~FixtureServer() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void SetRobots(std::string body, int status = 200) {
    std::lock_guard<std::mutex> lock(mu_);
    robots_ = std::move(body);
    robots_status_ = status;
  }
  void SetFanout(int n) { fanout_ = n; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> fanout_{3};
  std::mutex mu_;
  std::string robots_ = "User-agent: *\nDisallow: /private\n";
  int robots_status_ = 200;
};

}  // namespace lumen::test_support
