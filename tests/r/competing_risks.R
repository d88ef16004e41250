# Reference values for analysis/competing_risks.py, frozen as JSON fixtures.
#
# Run from the repository root:  Rscript tests/r/competing_risks.R
# Needs the R package jsonlite (Debian: apt-get install r-cran-jsonlite) to write the JSON.
# Writes tests/fixtures/competing_risks/<name>.csv (the data) and <name>.json
# (cmprsk output). Made with R 4.x, survival 3.5-3, cmprsk 2.2-11.
#
# Every data set has tied event times of both causes (lifelines' Aalen-Johansen
# fitter jitters ties, so it cannot serve as the reference).

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

out_dir <- file.path("tests", "fixtures", "competing_risks")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN/Inf and NULL as null.
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

reference <- function(name, time, cause, group, times, rho = 0) {
  d <- data.frame(time = time, cause = cause, group = as.character(group))
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  fit <- cuminc(d$time, d$cause, d$group, rho = rho)
  fit_all <- cuminc(d$time, d$cause)
  tp <- timepoints(fit, times)
  tp_all <- timepoints(fit_all, times)
  curves <- list()
  for (nm in setdiff(names(fit), "Tests")) {
    curves[[nm]] <- list(time = I(fit[[nm]]$time), est = I(fit[[nm]]$est), var = I(fit[[nm]]$var))
  }
  at <- function(tp) {
    res <- list()
    for (nm in rownames(tp$est)) res[[nm]] <- list(est = I(unname(tp$est[nm, ])), var = I(unname(tp$var[nm, ])))
    res
  }
  tests <- list()
  for (cs in rownames(fit$Tests)) {
    # cuminc reports 1 - pchisq(), which is 0 below ~1e-16; pv_upper keeps the digits.
    tests[[cs]] <- list(stat = fit$Tests[cs, "stat"], pv = fit$Tests[cs, "pv"], df = fit$Tests[cs, "df"],
                        pv_upper = pchisq(fit$Tests[cs, "stat"], fit$Tests[cs, "df"], lower.tail = FALSE))
  }
  groups <- sort(unique(d$group))
  res <- list(
    call = sprintf("cuminc(time, cause, group, rho = %g); timepoints(fit, times)", rho),
    rho = rho,
    groups = I(groups),
    times = I(sort(unique(times))),
    curves = curves,
    timepoints = at(tp),
    timepoints_ungrouped = at(tp_all),
    tests = tests
  )
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
  invisible(fit)
}

# 1. Hand-made: ties within and across causes and with censoring, three groups,
#    a group whose last time is a relapse, and a tie of 3 events of one cause.
hand <- data.frame(
  time  = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9, 10, 10, 10, 12,
            1, 2, 2, 2, 3, 4, 4, 6, 6, 8, 9, 9, 11, 12, 12,
            2, 3, 3, 5, 5, 5, 7, 8, 8, 10),
  cause = c(1, 2, 0, 1, 1, 2, 2, 1, 0, 1, 2, 0, 1, 1, 2, 0, 1, 2, 0, 1,
            2, 1, 2, 0, 1, 1, 1, 2, 0, 1, 2, 2, 0, 1, 0,
            0, 1, 2, 1, 1, 1, 2, 0, 1, 1),
  group = c(rep("A", 20), rep("B", 15), rep("C", 10))
)
reference("hand", hand$time, hand$cause, hand$group,
          times = c(0, 0.5, 1, 2, 2.5, 3, 6, 9.99, 10, 11, 12, 13))

# 2. survival::mgus2 - progression to plasma-cell malignancy (cause 1) vs death
#    without progression (cause 2), months, by sex. Many ties of both causes.
m <- survival::mgus2
etime <- ifelse(m$pstat == 1, m$ptime, m$futime)
ecause <- ifelse(m$pstat == 1, 1, 2 * m$death)
reference("mgus2", etime, ecause, m$sex, times = c(12, 24, 60, 120, 240, 400, 500))

# 3. The same with a weight rho = 1 in Gray's test.
reference("mgus2_rho1", etime, ecause, m$sex, times = c(12, 24, 60), rho = 1)

# 4. survival::pbc - transplant (cause 1) vs death (cause 2), days, by edema (3 groups).
p <- survival::pbc
reference("pbc", p$time, p$status, format(p$edema), times = c(365, 730, 1825, 3650, 5000))

# 5. Small groups: one with a single patient, one without any cause-1 event.
small <- data.frame(
  time  = c(2, 3, 3, 4, 6, 6, 8, 9,   5,   1, 3, 3, 7),
  cause = c(1, 2, 1, 0, 1, 2, 0, 1,   1,   2, 0, 2, 0),
  group = c(rep("a", 8), "b", rep("c", 4))
)
reference("small", small$time, small$cause, small$group, times = c(1, 3, 5, 8, 9, 10))
