//! Where findings belong: history findings at the commit that introduced their blob, staged
//! and range findings at the change that brought their blob in, on added lines only.

use std::{collections::HashMap, sync::Arc};

use gix::ObjectId;

use super::FindingsByBlob;
use crate::{
    findings::Finding,
    sources::{
        git::{
            attribute::attribute,
            changes::{self, Change},
            commit_info, history, read_blob, GitBlob, GitOrigin, ObjectError,
        },
        Origin,
    },
};

/// How findings will be placed once the scan is done.
pub(super) enum Plan {
    History(Box<history::History>),
    Changes(Vec<Change>),
}

/// History findings, each at the commit and path that introduced its blob.
pub(super) fn history_findings(
    repo: &gix::Repository,
    walked: &history::History,
    scanned: &[GitBlob],
    by_blob: &FindingsByBlob,
) -> (Vec<Finding>, Vec<ObjectError>) {
    let path_hint: HashMap<ObjectId, Option<String>> = scanned
        .iter()
        .filter(|b| by_blob.contains_key(&b.id))
        .map(|b| (b.id, b.path.clone()))
        .collect();
    let mut targets: Vec<ObjectId> = path_hint.keys().copied().collect();
    targets.sort();
    let (attributions, errors) = attribute(repo, &walked.commits, &targets);

    let mut findings = Vec::new();
    for id in targets {
        let attribution = attributions.get(&id);
        let mut origin = GitOrigin::blob(id.to_string(), path_hint[&id].clone());
        if let Some(attribution) = attribution {
            if let Some((commit, path)) = &attribution.introduced {
                origin.commit = Some(commit.clone());
                origin.path = Some(path.clone());
            }
            origin.other_commits = attribution.other_commits;
            origin.other_paths = attribution
                .paths
                .iter()
                .filter(|p| Some(p.as_str()) != origin.path.as_deref())
                .cloned()
                .collect();
        }
        let origin = Arc::new(Origin::Git(Box::new(origin)));
        for found in &by_blob[&id] {
            findings.push(Finding::new(found.clone(), origin.clone()));
        }
    }
    (findings, errors)
}

/// Staged or range findings, each at the change that brought its blob in, on added lines only.
pub(super) fn change_findings(
    repo: &gix::Repository,
    changes: &[Change],
    by_blob: &FindingsByBlob,
) -> (Vec<Finding>, Vec<ObjectError>) {
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut buf = Vec::new();
    let mut commit_infos = HashMap::new();
    for change in changes {
        let Some(found) = by_blob.get(&change.blob) else {
            continue;
        };
        let added = read_blob(repo, &change.blob, &mut buf)
            .and_then(|()| changes::added_lines(repo, change, &buf));
        let added = match added {
            Ok(added) => added,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut origin = GitOrigin::blob(change.blob.to_string(), Some(change.path.clone()));
        match change.commit {
            Some(commit) => {
                let info = commit_infos.entry(commit).or_insert_with(|| {
                    commit_info(repo, &commit, &mut Vec::new())
                        .map_err(|e| errors.push(e))
                        .ok()
                });
                origin.commit = info.clone();
            }
            None => origin.staged = true,
        }
        let origin = Arc::new(Origin::Git(Box::new(origin)));
        for f in found {
            let last = f.line + f.secret.matches('\n').count();
            if added.touches(f.line, last) {
                findings.push(Finding::new(f.clone(), origin.clone()));
            }
        }
    }
    (findings, errors)
}

/// Consecutive findings with the same origin, as one event each.
pub(super) fn group_by_origin(findings: Vec<Finding>) -> Vec<Vec<Finding>> {
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    for finding in findings {
        match groups.last_mut() {
            Some(group) if group[0].origin == finding.origin => group.push(finding),
            _ => groups.push(vec![finding]),
        }
    }
    groups
}
