//! Finds the steps of a walkthrough: fenced blocks tagged `sh walkthrough`,
//! each with the answer block that follows it.

/// One command block of the walkthrough and the answer written under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The 1-based line of the block's opening fence, for messages.
    pub line: usize,
    /// The nearest heading above the block, for messages.
    pub heading: String,
    /// The shell text to run.
    pub code: String,
    /// The answer block's text; `None` when the step has none and must print nothing.
    pub answer: Option<String>,
}

impl Step {
    /// How a message names this step: its file, line and heading.
    pub fn name(&self, file: &str) -> String {
        format!("{file}:{} (\"{}\")", self.line, self.heading)
    }
}

/// Reads the steps of a Markdown walkthrough.
///
/// A step is a block fenced with "```sh walkthrough"; the next fenced block is its
/// answer when its info string contains the word `answer` (e.g. "```http answer"),
/// with only prose in between. Other fenced blocks are for readers only.
pub fn steps(text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    let mut heading = String::from("(before the first heading)");
    let mut lines = text.lines().enumerate();
    // Whether the last fenced block was a step still waiting for its answer.
    let mut open_step = false;
    while let Some((index, line)) = lines.next() {
        if let Some(title) = line.strip_prefix('#') {
            heading = title.trim_start_matches('#').trim().to_owned();
            continue;
        }
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        let mut body = Vec::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim_end() == "```" {
                closed = true;
                break;
            }
            body.push(inner);
        }
        if !closed {
            return Err(format!("line {}: a code block is never closed", index + 1));
        }
        let body = body.join("\n");
        if words.first() == Some(&"sh") && words.contains(&"walkthrough") {
            steps.push(Step {
                line: index + 1,
                heading: heading.clone(),
                code: body,
                answer: None,
            });
            open_step = true;
        } else if words.contains(&"answer") {
            if !open_step {
                return Err(format!(
                    "line {}: an answer block must follow a \"sh walkthrough\" block",
                    index + 1
                ));
            }
            if let Some(step) = steps.last_mut() {
                step.answer = Some(body);
            }
            open_step = false;
        } else {
            open_step = false;
        }
    }
    if steps.is_empty() {
        return Err("no \"sh walkthrough\" blocks".to_owned());
    }
    Ok(steps)
}

#[test]
fn a_step_takes_the_answer_block_after_it_and_its_heading() {
    let text = "# Intro\n```sh\nnot run\n```\n## Token\n```sh walkthrough\ncurl x\n```\nprose\n```http answer\nHTTP/1.1 200 OK\n```\n```sh walkthrough\ntrue\n```\n```sh\nnot an answer\n```\n";
    let steps = steps(text).unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].heading, "Token");
    assert_eq!(steps[0].line, 6);
    assert_eq!(steps[0].answer.as_deref(), Some("HTTP/1.1 200 OK"));
    assert_eq!(steps[1].answer, None);
}

#[test]
fn an_answer_without_a_step_is_refused() {
    assert!(
        steps("```sh walkthrough\ntrue\n```\n```json answer\n{}\n```\n```json answer\n{}\n```\n")
            .is_err()
    );
}
