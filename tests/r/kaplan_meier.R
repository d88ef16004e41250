# Reference values for analysis/kaplan_meier.py and analysis/logrank.py, frozen as JSON fixtures.
#
# Run from the repository root:  Rscript tests/r/kaplan_meier.R
# Needs the R package jsonlite (Debian: apt-get install r-cran-jsonlite) to write the JSON.
# Reads  tests/fixtures/kaplan_meier/waltons.csv (lifelines.datasets.load_waltons(), exported with
#        pandas: columns T, E, group) and tests/fixtures/kaplan_meier/demo_cohort.csv (a frozen copy
#        of data/demo_cohort.csv, so later recalibrations of the demo do not invalidate the fixtures).
# Writes tests/fixtures/kaplan_meier/<case>.json, one per data set and grouping, each holding the
#        data it was computed from. Made with R 4.x and survival 3.5-3.
#
# What is computed, per case:
#   curves    survfit(Surv(time, event) ~ 1, conf.type = "log-log") per group: the whole table,
#             plus lower/upper for conf.type "log" and "plain";
#             summary(fit, times = ) at landmarks (extend = FALSE: times past the last follow-up
#             are dropped by R); quantile(fit, c(.25, .5, .75)) with CI.
#   followup  median of survfit(Surv(time, 1 - event) ~ 1) (reverse Kaplan-Meier), all patients.
#   survdiff  survdiff(Surv(time, event) ~ group, rho = 0 and rho = 1): chisq, df, p, obs, exp, var.
#   fh        Fleming-Harrington G(p, q) tests, weights S(t-)^p (1 - S(t-))^q with S the pooled
#             Kaplan-Meier: survdiff only has q = 0, so they are computed by hand below (a loop
#             over event times, written independently of the Python code).
#   trend     test for trend over ordered groups with scores 1..k, from survdiff's components:
#             U = sum(score * (O - E)), V = score' var score, chisq = U^2 / V on 1 df.
#   pairwise  survdiff on each pair of groups, p adjusted with p.adjust(method = "holm").

suppressPackageStartupMessages(library(survival))

out_dir <- file.path("tests", "fixtures", "kaplan_meier")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN/Inf and NULL as null.
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

curve_reference <- function(time, event, times) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = "log-log")
  fit_log <- survfit(Surv(time, event) ~ 1, conf.type = "log")
  fit_plain <- survfit(Surv(time, event) ~ 1, conf.type = "plain")
  s <- summary(fit, times = times)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  list(
    n = length(time), events = sum(event),
    time = I(fit$time), n_risk = I(fit$n.risk), n_event = I(fit$n.event),
    n_censor = I(fit$n.censor), surv = I(fit$surv),
    # summary.survfit prints the SE of S: surv * std.err (std.err is on the log scale).
    std_err = I(fit$surv * fit$std.err),
    lower = I(fit$lower), upper = I(fit$upper),
    lower_log = I(fit_log$lower), upper_log = I(fit_log$upper),
    lower_plain = I(fit_plain$lower), upper_plain = I(fit_plain$upper),
    summary = list(requested = I(times), time = I(s$time), surv = I(s$surv), lower = I(s$lower),
                   upper = I(s$upper), std_err = I(s$std.err), n_risk = I(s$n.risk)),
    quantile = list(probs = I(c(0.25, 0.5, 0.75)), time = I(q$quantile), lower = I(q$lower),
                    upper = I(q$upper))
  )
}

# Fleming-Harrington G(p, q) by hand: weights from the pooled KM just before each event time.
fleming_harrington <- function(time, event, group, p, q) {
  levs <- levels(group)
  k <- length(levs)
  km <- 1
  o_minus_e <- rep(0, k)
  v <- matrix(0, k, k)
  for (t in sort(unique(time[event == 1]))) {
    at_risk <- time >= t
    n <- sum(at_risk)
    d <- sum(time == t & event == 1)
    n_j <- sapply(levs, function(l) sum(at_risk & group == l))
    d_j <- sapply(levs, function(l) sum(time == t & event == 1 & group == l))
    w <- km^p * (1 - km)^q
    o_minus_e <- o_minus_e + w * (d_j - d * n_j / n)
    if (n > 1) {
      f <- d * (n - d) / (n - 1)
      v <- v + w^2 * f * (diag(n_j / n, k) - outer(n_j, n_j) / n^2)
    }
    km <- km * (1 - d / n)
  }
  u <- o_minus_e[-1]
  chisq <- sum(solve(v[-1, -1, drop = FALSE], u) * u)
  list(p = p, q = q, chisq = chisq, df = k - 1, pvalue = pchisq(chisq, k - 1, lower.tail = FALSE),
       o_minus_e = I(o_minus_e))
}

group_tests <- function(time, event, group) {
  sd <- lapply(c(0, 1), function(rho) {
    d <- survdiff(Surv(time, event) ~ group, rho = rho)
    df <- sum(d$exp > 0) - 1
    list(rho = rho, chisq = d$chisq, df = df, pvalue = d$pvalue, n = I(as.vector(d$n)),
         observed = I(d$obs), expected = I(d$exp), var = lapply(seq_len(nrow(d$var)), function(i) I(d$var[i, ])))
  })
  fh <- list(fleming_harrington(time, event, group, 0, 0), fleming_harrington(time, event, group, 1, 0),
             fleming_harrington(time, event, group, 0, 1), fleming_harrington(time, event, group, 1, 1))
  d0 <- survdiff(Surv(time, event) ~ group)
  scores <- seq_along(levels(group))
  u <- sum(scores * (d0$obs - d0$exp))
  v <- as.numeric(t(scores) %*% d0$var %*% scores)
  trend <- list(scores = I(scores), statistic = u^2 / v, df = 1,
                pvalue = pchisq(u^2 / v, 1, lower.tail = FALSE))
  levs <- levels(group)
  pairs <- combn(seq_along(levs), 2)
  pw <- lapply(seq_len(ncol(pairs)), function(j) {
    keep <- group %in% levs[pairs[, j]]
    d <- survdiff(Surv(time[keep], event[keep]) ~ droplevels(group[keep]))
    list(group1 = levs[pairs[1, j]], group2 = levs[pairs[2, j]], chisq = d$chisq, pvalue = d$pvalue)
  })
  p_holm <- p.adjust(sapply(pw, function(x) x$pvalue), method = "holm")
  for (j in seq_along(pw)) pw[[j]]$p_holm <- p_holm[j]
  list(survdiff = sd, fh = fh, trend = trend, pairwise = pw)
}

write_case <- function(name, time, event, group = NULL, times, description) {
  keep <- if (is.null(group)) rep(TRUE, length(time)) else !is.na(group)
  time <- time[keep]
  event <- event[keep]
  res <- list(name = name, description = description,
              data = list(time = I(time), event = I(event),
                          group = if (is.null(group)) NULL else I(as.character(group[keep]))),
              followup_median = unname(quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5, conf.int = FALSE)))
  if (is.null(group)) {
    res$groups <- list("all")
    res$curves <- list(curve_reference(time, event, times))
  } else {
    # Sorted in C locale, the order Python's sorted() gives.
    g <- factor(as.character(group[keep]), levels = sort(unique(as.character(group[keep])), method = "radix"))
    res$groups <- as.list(levels(g))
    res$curves <- lapply(levels(g), function(l) curve_reference(time[g == l], event[g == l], times))
    res$tests <- group_tests(time, event, g)
  }
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
}

# Public data sets with ties and censoring -----------------------------------------------------
lung <- survival::lung
write_case("lung", lung$time, lung$status - 1, NULL, c(0, 100, 365, 500, 730, 1000, 2000),
           "survival::lung, all patients (days)")
write_case("lung_sex", lung$time, lung$status - 1, c("male", "female")[lung$sex],
           c(0, 100, 365, 500, 730, 1000), "survival::lung by sex")
write_case("lung_ecog", lung$time, lung$status - 1, lung$ph.ecog, c(100, 365, 730),
           "survival::lung by ph.ecog (0-3; one patient with 3, one missing)")
vet <- survival::veteran
write_case("veteran_celltype", vet$time, vet$status, as.character(vet$celltype), c(30, 90, 180, 365, 999),
           "survival::veteran by cell type (4 groups)")
aml <- survival::aml
write_case("aml", aml$time, aml$status, as.character(aml$x), c(5, 12, 24, 48, 161),
           "survival::aml by maintenance (small, ties)")
walt <- read.csv(file.path(out_dir, "waltons.csv"))
write_case("waltons", walt$T, walt$E, walt$group, c(10, 30, 50, 70, 75),
           "lifelines waltons by group (heavy ties)")

# Demo cohort: endpoints derived here as in analysis/cohort.py ------------------------------------
demo <- read.csv(file.path(out_dir, "demo_cohort.csv"), stringsAsFactors = FALSE)
os_time <- demo$followup_months
os_event <- demo$death
rfs_time <- ifelse(demo$relapse == 1, demo$relapse_months, demo$followup_months)
rfs_event <- as.integer(demo$relapse == 1 | demo$death == 1)
age_group <- ifelse(demo$age_years >= 10, "≥ 10 y", "< 10 y")
landmarks <- c(12, 24, 60)
write_case("demo_os", os_time, os_event, NULL, landmarks, "demo cohort, OS")
write_case("demo_rfs", rfs_time, rfs_event, NULL, landmarks, "demo cohort, RFS")
write_case("demo_os_lineage", os_time, os_event, demo$lineage, landmarks, "demo cohort, OS by lineage")
write_case("demo_rfs_age", rfs_time, rfs_event, age_group, landmarks, "demo cohort, RFS by age group")
write_case("demo_os_donor", os_time, os_event, demo$donor, landmarks, "demo cohort, OS by donor (4 groups)")

# Hand-computable edge cases -------------------------------------------------------------------
edge_times <- c(0.5, 1, 2, 3, 5, 10)
write_case("edge_all_censored", c(2, 4, 4, 7), c(0, 0, 0, 0), NULL, edge_times, "all censored")
write_case("edge_one_patient_event", 5, 1, NULL, edge_times, "one patient, who dies")
write_case("edge_one_patient_censored", 5, 0, NULL, edge_times, "one patient, censored")
write_case("edge_first_censored", c(1, 3, 4, 6), c(0, 1, 1, 0), NULL, edge_times, "first time censored")
write_case("edge_ties_death_censor", c(2, 2, 2, 3, 3, 5, 5, 5, 8, 9), c(1, 1, 0, 1, 0, 1, 0, 0, 1, 0), NULL,
           edge_times, "deaths and censorings tied at the same times")
write_case("edge_median_flat_half", c(1, 2, 3, 4), c(1, 1, 0, 1), NULL, edge_times,
           "survival exactly 0.5 on a flat stretch: median is its midpoint")
write_case("edge_median_last_half", c(1, 2, 3, 4), c(1, 1, 0, 0), NULL, edge_times,
           "survival exactly 0.5 on the last stretch: midpoint with the last time")
write_case("edge_all_die", c(1, 2, 3), c(1, 1, 1), NULL, edge_times, "everybody dies: survival reaches 0")
write_case("edge_event_at_zero", c(0, 0, 1, 2, 3), c(1, 0, 1, 0, 1), NULL, edge_times, "an event at time 0")
write_case("edge_group_no_events", c(1, 2, 3, 4, 5, 2, 4, 6, 8), c(1, 1, 0, 1, 0, 0, 0, 0, 0),
           c("A", "A", "A", "A", "A", "B", "B", "B", "B"), edge_times, "group B has no events")
