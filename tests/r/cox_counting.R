# Reference values for analysis/stats/cox/counting.py, time_dependent.py and robust.py, frozen as JSON.
#
# Run from the repository root:  Rscript tests/r/cox_counting.R
# Needs survival and jsonlite. Writes tests/fixtures/cox_counting/<name>.csv (the data as the Python side
# reads it, one row per patient unless said otherwise) and <name>.json. Made with R 4.2, survival 3.5-3.
#
#   time-dependent covariates: tmerge(base, base, id, event = event(time, status));
#                              tmerge(., events, id, x = tdc(time)); coxph(Surv(tstart, tstop, event) ~ ...)
#   strata:                    coxph(Surv(time, status) ~ ... + strata(centre))
#   cluster-robust variance:   coxph(Surv(time, status) ~ ..., cluster = centre); residuals(fit, "score")
#   landmark analysis:         the patients still at risk after the landmark L, time - L, grouped by their
#                              status at L: survfit, survdiff and coxph on that subset.

suppressPackageStartupMessages(library(survival))
source(file.path("tests", "r", "helpers.R"))

out_dir <- file.path("tests", "fixtures", "cox_counting")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

coefs <- function(fit, terms) {
  s <- summary(fit)
  cf <- s$coefficients
  out <- list(terms = I(terms), coef = I(unname(cf[, "coef"])), hr = I(unname(cf[, "exp(coef)"])),
              se = I(unname(cf[, "se(coef)"])), z = I(unname(cf[, "z"])), p = I(unname(cf[, "Pr(>|z|)"])),
              lower = I(unname(s$conf.int[, "lower .95"])), upper = I(unname(s$conf.int[, "upper .95"])),
              loglik = I(fit$loglik), n = fit$n, events = fit$nevent, iter = fit$iter,
              lr = 2 * diff(fit$loglik), score = unname(fit$score))  # summary() rounds its tests
  if (!is.null(fit$naive.var)) {
    out$robust_se <- I(unname(cf[, "robust se"]))
    out$naive_se <- I(sqrt(diag(fit$naive.var)))
    out$robust_wald <- unname(fit$wald.test)  # summary() rounds its waldtest to 2 decimals
  }
  out
}

# ------------------------------------------------------------------ counting-process rows as given
h <- survival::heart
write.csv(h[, c("start", "stop", "event", "age", "surgery", "transplant", "id")],
          file.path(out_dir, "heart.csv"), row.names = FALSE)
fit <- coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = h, ties = "efron")
write_fixture(list(call = "coxph(Surv(start, stop, event) ~ age + surgery + transplant, heart)",
                   fit = coefs(fit, c("age", "surgery", "transplant")),
                   score_residuals = I(unname(residuals(fit, type = "score")))),
              file.path(out_dir, "heart.json"))

# ------------------------------------------------------------------ time-dependent GVHD (cgvhd, months)
cg <- read.delim(file.path("tests", "fixtures", "transplant", "cgvhd.tsv"))
base <- data.frame(id = cg$stnum, os_time = cg$survtime * 12, death = cg$stat, dx = cg$dx, age = cg$age,
                   agvhd_time = ifelse(cg$agvh == 1, cg$agvhtime * 12, NA),
                   cgvhd_time = ifelse(cg$cgvh == 1, cg$cgvhtime * 12, NA))
write.csv(base, file.path(out_dir, "cgvhd_td.csv"), row.names = FALSE, na = "")
td <- tmerge(base[, c("id", "os_time", "death", "dx", "age")], base, id = id,
             death = event(os_time, death))
ag <- base[!is.na(base$agvhd_time), ]
cgv <- base[!is.na(base$cgvhd_time), ]
td <- tmerge(td, ag, id = id, agvhd = tdc(agvhd_time))
td <- tmerge(td, cgv, id = id, cgvhd = tdc(cgvhd_time))
fit_td <- coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + dx + age, data = td, ties = "efron")
ever <- coxph(Surv(os_time, death) ~ I(!is.na(agvhd_time)) + I(!is.na(cgvhd_time)) + dx + age, data = base,
              ties = "efron")
write_fixture(list(call = paste("td <- tmerge(base, base, id, death = event(os_time, death));",
                                "tmerge(td, ., agvhd = tdc(agvhd_time), cgvhd = tdc(cgvhd_time));",
                                "coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + dx + age)"),
                   rows = nrow(td), tstart = I(td$tstart), tstop = I(td$tstop), event = I(td$death),
                   agvhd = I(td$agvhd), cgvhd = I(td$cgvhd), id = I(td$id),
                   fit = coefs(fit_td, c("agvhd", "cgvhd", "dx=CML", "age")),
                   ever = coefs(ever, c("agvhd", "cgvhd", "dx=CML", "age"))),
              file.path(out_dir, "cgvhd_td.json"))

# ------------------------------------------------------------------ ties, switches at 0 and at the end, strata
set.seed(20240613)
n <- 120
syn <- data.frame(id = 1:n, time = pmax(1, round(rexp(n, 0.08))), x = round(rnorm(n), 1),
                  centre = sample(c("A", "B", "C", "D"), n, TRUE))
syn$status <- rbinom(n, 1, 0.7)
syn$switch <- ifelse(runif(n) < 0.5, round(runif(n, 0, 1.2) * syn$time), NA)
syn$switch[1:6] <- c(0, syn$time[2], syn$time[3] + 2, 1, syn$time[5], NA)  # at 0, at the end, after it
write.csv(syn, file.path(out_dir, "synthetic_td.csv"), row.names = FALSE, na = "")
st <- tmerge(syn[, c("id", "time", "status", "x", "centre")], syn, id = id, status = event(time, status))
st <- tmerge(st, syn[!is.na(syn$switch), ], id = id, td = tdc(switch))
fit_st <- coxph(Surv(tstart, tstop, status) ~ x + td + strata(centre), data = st, ties = "efron")
fit_s <- coxph(Surv(time, status) ~ x + strata(centre), data = syn, ties = "efron")
write_fixture(list(call = "tmerge(syn, ., td = tdc(switch)); coxph(Surv(tstart, tstop, status) ~ x + td + strata(centre))",
                   rows = nrow(st), tstart = I(st$tstart), tstop = I(st$tstop), event = I(st$status),
                   td = I(st$td), id = I(st$id),
                   fit = coefs(fit_st, c("x", "td")), strata_only = coefs(fit_s, c("x"))),
              file.path(out_dir, "synthetic_td.json"))

# ------------------------------------------------------------------ centres: lung's institutions
lg <- survival::lung
lg <- lg[complete.cases(lg[, c("time", "status", "age", "sex", "ph.ecog", "inst")]), ]
lg$status <- as.integer(lg$status == 2)
lg$sex <- ifelse(lg$sex == 1, "male", "female")
lg$centre <- paste0("I", lg$inst)
write.csv(lg[, c("time", "status", "age", "sex", "ph.ecog", "centre")], file.path(out_dir, "lung_centres.csv"),
          row.names = FALSE)
terms <- c("age", "sex=male", "ph.ecog")
cl <- coxph(Surv(time, status) ~ age + I(sex == "male") + ph.ecog, data = lg, cluster = centre, ties = "efron")
sr <- coxph(Surv(time, status) ~ age + I(sex == "male") + ph.ecog + strata(centre), data = lg, ties = "efron")
plain <- coxph(Surv(time, status) ~ age + I(sex == "male") + ph.ecog, data = lg, ties = "efron")
write_fixture(list(call = "coxph(Surv(time, status) ~ age + sex + ph.ecog, cluster = centre); ... + strata(centre)",
                   cluster = coefs(cl, terms), strata = coefs(sr, terms),
                   score_residuals = I(unname(residuals(plain, type = "score"))),
                   centres = length(unique(lg$centre))),
              file.path(out_dir, "lung_centres.json"))

# ------------------------------------------------------------------ centres: many, small, tied times, a factor
set.seed(20240614)
n <- 400
mc <- data.frame(centre = sprintf("C%02d", sample(1:25, n, TRUE)), age = round(runif(n, 1, 18), 1),
                 donor = sample(c("MSD", "MUD", "haplo"), n, TRUE))
frail <- rnorm(25, 0, 0.5)[as.integer(factor(mc$centre))]
lp <- 0.04 * mc$age + 0.4 * (mc$donor == "haplo") + frail
ev <- rexp(n, 0.03 * exp(lp))
ce <- runif(n, 5, 80)
mc$time <- round(pmin(ev, ce))
mc$time[mc$time == 0] <- 1
mc$status <- as.integer(ev <= ce)
write.csv(mc, file.path(out_dir, "multicentre.csv"), row.names = FALSE)
terms <- c("age", "donor=MUD", "donor=haplo")
mc$donor <- factor(mc$donor, levels = c("MSD", "MUD", "haplo"))
cl <- coxph(Surv(time, status) ~ age + donor, data = mc, cluster = centre, ties = "efron")
sr <- coxph(Surv(time, status) ~ age + donor + strata(centre), data = mc, ties = "efron")
write_fixture(list(call = "coxph(Surv(time, status) ~ age + donor, cluster = centre); ... + strata(centre)",
                   cluster = coefs(cl, terms), strata = coefs(sr, terms),
                   centres = length(unique(mc$centre))),
              file.path(out_dir, "multicentre.json"))

# ------------------------------------------------------------------ landmark analysis (cgvhd, 6 months)
lm_ref <- function(L) {
  at <- base[base$os_time > L, ]
  at$time <- at$os_time - L
  at$cgvhd_by <- ifelse(!is.na(at$cgvhd_time) & at$cgvhd_time <= L, "yes", "no")
  fit <- survfit(Surv(time, death) ~ cgvhd_by, data = at, conf.type = "log-log")
  s <- summary(fit, times = c(6, 12, 24))
  lr <- survdiff(Surv(time, death) ~ cgvhd_by, data = at)
  cx <- coxph(Surv(time, death) ~ I(cgvhd_by == "yes") + dx, data = at, ties = "efron")
  list(landmark = L, n = nrow(at), by_group = as.list(table(at$cgvhd_by)),
       strata = I(as.character(s$strata)), time = I(s$time), surv = I(s$surv), lower = I(s$lower),
       upper = I(s$upper), n_risk = I(s$n.risk),
       logrank = list(chisq = lr$chisq, p = pchisq(lr$chisq, 1, lower.tail = FALSE)),
       cox = coefs(cx, c("cgvhd_by=yes", "dx=CML")))
}
write_fixture(list(call = "at <- subset(base, os_time > L); survfit/survdiff/coxph(Surv(os_time - L, death) ~ cGVHD by L)",
                   six = lm_ref(6), twelve = lm_ref(12)),
              file.path(out_dir, "cgvhd_landmark.json"))
